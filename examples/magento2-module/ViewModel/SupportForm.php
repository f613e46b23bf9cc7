<?php
declare(strict_types=1);

namespace Acme\AiAssistant\ViewModel;

use Magento\Framework\UrlInterface;
use Magento\Framework\View\Element\Block\ArgumentInterface;

/**
 * Data for the "Ask support" form: only the shop's own endpoint, no provider, no key.
 */
class SupportForm implements ArgumentInterface
{
    public function __construct(private readonly UrlInterface $urlBuilder)
    {
    }

    public function getReplyUrl(): string
    {
        return $this->urlBuilder->getUrl('aiassistant/support/reply');
    }
}
