<?php
declare(strict_types=1);

namespace Acme\AiAssistant\Test\Unit\Service;

use Acme\AiAssistant\Model\Config;
use Acme\AiAssistant\Service\OrderSummarizer;
use GuzzleHttp\Client;
use GuzzleHttp\ClientFactory;
use GuzzleHttp\Handler\MockHandler;
use GuzzleHttp\HandlerStack;
use GuzzleHttp\Middleware;
use GuzzleHttp\Psr7\Response;
use Magento\Framework\Serialize\Serializer\Json;
use Magento\Sales\Model\Order;
use Magento\Sales\Model\Order\Address;
use Magento\Sales\Model\Order\Payment;
use PHPUnit\Framework\TestCase;

class OrderSummarizerTest extends TestCase
{
    // egressguard-ignore: ai-key-hardcoded -- synthetic fixture, never issued by OpenAI; the mock handler below never sends it
    private const FIXTURE_KEY = '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';

    public function testSummaryIsTheFirstChoice(): void
    {
        $history = [];
        $stack = HandlerStack::create(new MockHandler([
            new Response(200, [], '{"choices":[{"message":{"content":"Two mugs, paid by card."}}]}'),
        ]));
        $stack->push(Middleware::history($history));

        $clientFactory = $this->createMock(ClientFactory::class);
        $clientFactory->method('create')->willReturn(new Client(['handler' => $stack]));

        $config = $this->createMock(Config::class);
        $config->method('getOpenAiApiKey')->willReturn(self::FIXTURE_KEY);
        $config->method('getOpenAiModel')->willReturn('gpt-4o-mini');

        $summarizer = new OrderSummarizer($clientFactory, $config, new Json());

        $this->assertSame('Two mugs, paid by card.', $summarizer->summarize($this->order()));
        $this->assertSame('Bearer ' . self::FIXTURE_KEY, $history[0]['request']->getHeaderLine('Authorization'));
    }

    private function order(): Order
    {
        $address = $this->createMock(Address::class);
        $address->method('getStreet')->willReturn(['Musterstraße 1']);
        $payment = $this->createMock(Payment::class);
        $order = $this->createMock(Order::class);
        $order->method('getBillingAddress')->willReturn($address);
        $order->method('getPayment')->willReturn($payment);
        $order->method('getAllVisibleItems')->willReturn([]);
        return $order;
    }
}
