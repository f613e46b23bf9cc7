<?php
declare(strict_types=1);

namespace Acme\AiAssistant\Service;

use Magento\Catalog\Api\Data\ProductInterface;
use Magento\Framework\App\Config\ScopeConfigInterface;
use Magento\Framework\HTTP\Client\Curl;
use Magento\Framework\Serialize\Serializer\Json;
use Psr\Log\LoggerInterface;

/**
 * Drafts marketing copy for a product page from its attributes.
 */
class ProductCopywriter
{
    private const ENDPOINT = 'https://api.anthropic.com/v1/messages';
    private const MODEL = 'claude-3-5-haiku-latest';
    /** Set per environment with `bin/magento config:set --lock-env acme_ai/anthropic/api_key …`. */
    private const XML_API_KEY = 'acme_ai/anthropic/api_key';

    public function __construct(
        private readonly Curl $curl,
        private readonly ScopeConfigInterface $scopeConfig,
        private readonly Json $json,
        private readonly LoggerInterface $logger
    ) {
    }

    public function draftDescription(ProductInterface $product): string
    {
        $payload = [
            'model' => self::MODEL,
            'max_tokens' => 600,
            'messages' => [[
                'role' => 'user',
                'content' => sprintf(
                    "Write a persuasive product description (120 words).\n"
                    . "Name: %s\nSKU: %s\nPrice: %s\nSpecial price: %s\n"
                    . "Our cost: %s\nSupplier: %s\nMargin target: keep it above 35%%.\n",
                    $product->getName(),
                    $product->getSku(),
                    $product->getPrice(),
                    $product->getData('special_price'),
                    $product->getData('cost'),
                    $product->getData('supplier')
                ),
            ]],
        ];

        $this->logger->debug('prompt', ['payload' => $payload]);

        $this->curl->setHeaders([
            'x-api-key' => (string) $this->scopeConfig->getValue(self::XML_API_KEY),
            'anthropic-version' => '2023-06-01',
            'content-type' => 'application/json',
        ]);
        $this->curl->post(self::ENDPOINT, $this->json->serialize($payload));

        $body = $this->json->unserialize($this->curl->getBody());
        return (string) ($body['content'][0]['text'] ?? '');
    }
}
