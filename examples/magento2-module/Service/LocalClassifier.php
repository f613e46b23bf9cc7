<?php
declare(strict_types=1);

namespace Acme\AiAssistant\Service;

use Magento\Framework\HTTP\Client\Curl;
use Magento\Framework\Serialize\Serializer\Json;
use Psr\Log\LoggerInterface;

/**
 * Tags product reviews as praise / complaint / question with a model running on the shop's own host.
 */
class LocalClassifier
{
    private const OLLAMA_CHAT = 'http://127.0.0.1:11434/api/chat';
    private const MODEL = 'llama3.2:3b';
    private const LABELS = ['praise', 'complaint', 'question'];

    public function __construct(
        private readonly Curl $curl,
        private readonly Json $json,
        private readonly LoggerInterface $logger
    ) {
    }

    public function classify(string $reviewText): string
    {
        $this->curl->setTimeout(30);
        $this->curl->addHeader('Content-Type', 'application/json');
        $this->curl->post(self::OLLAMA_CHAT, $this->json->serialize([
            'model' => self::MODEL,
            'stream' => false,
            'messages' => [
                ['role' => 'system', 'content' => 'Answer with exactly one word: ' . implode(', ', self::LABELS) . '.'],
                ['role' => 'user', 'content' => $reviewText],
            ],
        ]));

        $body = $this->json->unserialize($this->curl->getBody());
        $label = strtolower(trim((string) ($body['message']['content'] ?? '')));
        $this->logger->info('ollama classify', [
            'model' => self::MODEL,
            'status' => $this->curl->getStatus(),
            'tokens' => (int) ($body['eval_count'] ?? 0),
            'label' => $label,
        ]);

        return in_array($label, self::LABELS, true) ? $label : 'question';
    }
}
