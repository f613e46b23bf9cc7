<?php
declare(strict_types=1);

namespace Acme\AiAssistant\Controller\Support;

use Acme\AiAssistant\Api\SupportReplierInterface;
use Magento\Framework\App\Action\HttpPostActionInterface;
use Magento\Framework\App\RequestInterface;
use Magento\Framework\Controller\Result\Json as JsonResult;
use Magento\Framework\Controller\Result\JsonFactory;
use Magento\Framework\Data\Form\FormKey\Validator as FormKeyValidator;

/**
 * POST aiassistant/support/reply: the storefront asks the shop, the shop asks the (EU) model.
 */
class Reply implements HttpPostActionInterface
{
    private const MAX_LENGTH = 1000;

    public function __construct(
        private readonly RequestInterface $request,
        private readonly JsonFactory $jsonFactory,
        private readonly FormKeyValidator $formKeyValidator,
        private readonly SupportReplierInterface $replier
    ) {
    }

    public function execute(): JsonResult
    {
        $result = $this->jsonFactory->create();
        if (!$this->formKeyValidator->validate($this->request)) {
            return $result->setHttpResponseCode(403)->setData(['error' => 'invalid form key']);
        }

        $question = mb_substr(trim((string) $this->request->getParam('question')), 0, self::MAX_LENGTH);
        if ($question === '') {
            return $result->setHttpResponseCode(400)->setData(['error' => 'empty question']);
        }

        return $result->setData(['reply' => $this->replier->draftReply($this->scrub($question))]);
    }

    /** Drop e-mail addresses and phone-like numbers before the text leaves the shop. */
    private function scrub(string $text): string
    {
        $text = (string) preg_replace('/[^\s@]+@[^\s@]+\.[^\s@]+/u', '[email]', $text);
        return (string) preg_replace('/\+?\d[\d\s\/().-]{6,}\d/u', '[phone]', $text);
    }
}
