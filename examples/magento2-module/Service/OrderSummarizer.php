<?php
declare(strict_types=1);

namespace Acme\AiAssistant\Service;

use Acme\AiAssistant\Model\Config;
use GuzzleHttp\ClientFactory;
use Magento\Framework\Serialize\Serializer\Json;
use Magento\Sales\Api\Data\OrderInterface;

/**
 * Writes a short natural-language summary of a new order for the customer-service team.
 */
class OrderSummarizer
{
    public function __construct(
        private readonly ClientFactory $clientFactory,
        private readonly Config $config,
        private readonly Json $json
    ) {
    }

    public function summarize(OrderInterface $order): string
    {
        $storeId = (int) $order->getStoreId();
        $billing = $order->getBillingAddress();
        $payment = $order->getPayment();

        $lines = [];
        foreach ($order->getAllVisibleItems() as $item) {
            $lines[] = sprintf('%d x %s (%s)', (int) $item->getQtyOrdered(), $item->getName(), $item->getSku());
        }

        $prompt = sprintf(
            "Summarise this order for our support team in three sentences.\n"
            . "Customer: %s <%s>\nShip to: %s, %s %s\nPhone: %s\n"
            . "Paid with card ending %s\nItems:\n%s\nGrand total: %s %s\n",
            $order->getCustomerFirstname(),
            $order->getCustomerEmail(),
            implode(' ', $billing->getStreet()),
            $billing->getPostcode(),
            $billing->getCity(),
            $billing->getTelephone(),
            $payment->getCcLast4(),
            implode("\n", $lines),
            $order->getGrandTotal(),
            $order->getOrderCurrencyCode()
        );

        $client = $this->clientFactory->create(['config' => ['timeout' => 20]]);
        $response = $client->request('POST', 'https://api.openai.com/v1/chat/completions', [
            'headers' => [
                'Authorization' => 'Bearer ' . $this->config->getOpenAiApiKey($storeId),
                'Content-Type' => 'application/json',
            ],
            'json' => [
                'model' => $this->config->getOpenAiModel($storeId),
                'messages' => [
                    ['role' => 'system', 'content' => 'You are a concise e-commerce assistant.'],
                    ['role' => 'user', 'content' => $prompt],
                ],
            ],
        ]);

        $body = $this->json->unserialize((string) $response->getBody());
        return (string) ($body['choices'][0]['message']['content'] ?? '');
    }
}
