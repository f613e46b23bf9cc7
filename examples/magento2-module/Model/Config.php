<?php
declare(strict_types=1);

namespace Acme\AiAssistant\Model;

use Magento\Framework\App\Config\ScopeConfigInterface;
use Magento\Framework\Encryption\EncryptorInterface;
use Magento\Store\Model\ScopeInterface;

class Config
{
    private const XML_OPENAI_ENABLED = 'openai/general/enabled';
    private const XML_OPENAI_API_KEY = 'openai/general/api_key';
    private const XML_OPENAI_MODEL = 'openai/general/model';
    private const XML_MISTRAL_API_KEY = 'mistral/general/api_key';
    private const XML_MISTRAL_MODEL = 'mistral/general/model';
    private const XML_OLLAMA_URL = 'acme_ai/local/ollama_url';
    private const XML_OLLAMA_MODEL = 'acme_ai/local/model';

    public function __construct(
        private readonly ScopeConfigInterface $scopeConfig,
        private readonly EncryptorInterface $encryptor
    ) {
    }

    public function isOpenAiEnabled(?int $storeId = null): bool
    {
        return $this->scopeConfig->isSetFlag(self::XML_OPENAI_ENABLED, ScopeInterface::SCOPE_STORE, $storeId);
    }

    /** Stored in plain text: see etc/adminhtml/system.xml. */
    public function getOpenAiApiKey(?int $storeId = null): string
    {
        return (string) $this->scopeConfig->getValue(self::XML_OPENAI_API_KEY, ScopeInterface::SCOPE_STORE, $storeId);
    }

    public function getOpenAiModel(?int $storeId = null): string
    {
        return (string) $this->scopeConfig->getValue(self::XML_OPENAI_MODEL, ScopeInterface::SCOPE_STORE, $storeId);
    }

    /** Stored encrypted (Config\Backend\Encrypted); decrypted only here, only when needed. */
    public function getMistralApiKey(?int $storeId = null): string
    {
        $stored = (string) $this->scopeConfig->getValue(self::XML_MISTRAL_API_KEY, ScopeInterface::SCOPE_STORE, $storeId);
        return $stored === '' ? '' : $this->encryptor->decrypt($stored);
    }

    public function getMistralModel(?int $storeId = null): string
    {
        return (string) $this->scopeConfig->getValue(self::XML_MISTRAL_MODEL, ScopeInterface::SCOPE_STORE, $storeId);
    }

    public function getOllamaUrl(): string
    {
        return rtrim((string) $this->scopeConfig->getValue(self::XML_OLLAMA_URL), '/');
    }

    public function getOllamaModel(): string
    {
        return (string) $this->scopeConfig->getValue(self::XML_OLLAMA_MODEL);
    }
}
