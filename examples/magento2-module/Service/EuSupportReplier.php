<?php
declare(strict_types=1);

namespace Acme\AiAssistant\Service;

use Acme\AiAssistant\Api\SupportReplierInterface;
use Acme\AiAssistant\Model\Config;
use GuzzleHttp\ClientFactory;
use GuzzleHttp\Exception\GuzzleException;
use Magento\Framework\Serialize\Serializer\Json;
use Psr\Log\LoggerInterface;

/**
 * Drafts support replies with Mistral's EU endpoint.
 *
 * The key comes from encrypted config; the prompt carries the question (already scrubbed by
 * the controller) and an order status, nothing else; the log carries metadata only.
 */
class EuSupportReplier implements SupportReplierInterface
{
    private const ENDPOINT = 'https://api.eu.mistral.ai/v1/chat/completions';

    public function __construct(
        private readonly ClientFactory $clientFactory,
        private readonly Config $config,
        private readonly Json $json,
        private readonly LoggerInterface $logger
    ) {
    }

    public function draftReply(string $question, string $orderStatus = ''): string
    {
        $model = $this->config->getMistralModel();
        $messages = [
            ['role' => 'system', 'content' => 'You draft polite replies for a shop support team.'],
            ['role' => 'user', 'content' => trim($question . ($orderStatus !== '' ? "\nOrder status: " . $orderStatus : ''))],
        ];

        $started = microtime(true);
        try {
            $response = $this->clientFactory->create(['config' => ['timeout' => 15]])->request('POST', self::ENDPOINT, [
                'headers' => ['Authorization' => 'Bearer ' . $this->config->getMistralApiKey()],
                'json' => ['model' => $model, 'messages' => $messages],
            ]);
        } catch (GuzzleException $e) {
            $this->logger->warning('mistral call failed', [
                'model' => $model,
                'error' => get_class($e),
                'ms' => (int) ((microtime(true) - $started) * 1000),
            ]);
            return '';
        }

        $body = $this->json->unserialize((string) $response->getBody());
        $this->logger->info('mistral call', [
            'model' => $model,
            'tokens' => (int) ($body['usage']['total_tokens'] ?? 0),
            'status' => $response->getStatusCode(),
            'ms' => (int) ((microtime(true) - $started) * 1000),
        ]);

        return (string) ($body['choices'][0]['message']['content'] ?? '');
    }
}
