<?php
declare(strict_types=1);

namespace Acme\AiAssistant\Cron;

use Acme\AiAssistant\Model\Config;
use Magento\Customer\Model\ResourceModel\Customer\CollectionFactory;
use Magento\Framework\Serialize\Serializer\Json;
use OpenAI;
use Psr\Log\LoggerInterface;

/**
 * Weekly: asks the model for customer segments and churn risks (runs Mondays 02:30, etc/crontab.xml).
 */
class CustomerInsights
{
    public function __construct(
        private readonly CollectionFactory $customerCollectionFactory,
        private readonly Config $config,
        private readonly Json $json,
        private readonly LoggerInterface $logger
    ) {
    }

    public function execute(): void
    {
        if (!$this->config->isOpenAiEnabled()) {
            return;
        }

        $collection = $this->customerCollectionFactory->create();
        $collection->addAttributeToSelect('*');

        $rows = [];
        foreach ($collection as $customer) {
            $rows[] = $customer->getData();
        }

        $client = OpenAI::factory()
            ->withApiKey($this->config->getOpenAiApiKey())
            ->withBaseUri('api.openai.com/v1')
            ->make();

        $result = $client->chat()->create([
            'model' => $this->config->getOpenAiModel(),
            'messages' => [
                ['role' => 'system', 'content' => 'Group these customers into marketing segments and flag churn risks.'],
                ['role' => 'user', 'content' => $this->json->serialize($rows)],
            ],
        ]);

        $this->logger->info('customer insights generated', [
            'customers' => count($rows),
            'tokens' => $result->usage->totalTokens,
        ]);
    }
}
