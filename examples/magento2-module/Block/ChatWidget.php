<?php
declare(strict_types=1);

namespace Acme\AiAssistant\Block;

use Acme\AiAssistant\Model\Config;
use Magento\Framework\View\Element\Template;
use Magento\Framework\View\Element\Template\Context;

/**
 * Storefront chat bubble (template: Acme_AiAssistant::chat-widget.phtml).
 */
class ChatWidget extends Template
{
    public function __construct(
        Context $context,
        private readonly Config $config,
        array $data = []
    ) {
        parent::__construct($context, $data);
    }

    public function isEnabled(): bool
    {
        return $this->config->isOpenAiEnabled((int) $this->_storeManager->getStore()->getId());
    }

    public function getApiKey(): string
    {
        return $this->config->getOpenAiApiKey((int) $this->_storeManager->getStore()->getId());
    }

    public function getModel(): string
    {
        return $this->config->getOpenAiModel((int) $this->_storeManager->getStore()->getId());
    }
}
