<?php
declare(strict_types=1);

namespace Acme\AiAssistant\Observer;

use Acme\AiAssistant\Model\Config;
use Acme\AiAssistant\Service\OrderSummarizer;
use Magento\Framework\Event\Observer;
use Magento\Framework\Event\ObserverInterface;
use Magento\Sales\Api\OrderRepositoryInterface;
use Magento\Sales\Model\Order;

/**
 * sales_order_place_after: attach an AI summary to the order as an internal comment.
 */
class SummarizeOrder implements ObserverInterface
{
    public function __construct(
        private readonly OrderSummarizer $summarizer,
        private readonly OrderRepositoryInterface $orderRepository,
        private readonly Config $config
    ) {
    }

    public function execute(Observer $observer): void
    {
        /** @var Order $order */
        $order = $observer->getEvent()->getOrder();
        if (!$this->config->isOpenAiEnabled((int) $order->getStoreId())) {
            return;
        }

        $summary = $this->summarizer->summarize($order);
        if ($summary !== '') {
            $order->addCommentToStatusHistory('AI summary: ' . $summary, false, false);
            $this->orderRepository->save($order);
        }
    }
}
