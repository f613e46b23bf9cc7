<?php
declare(strict_types=1);

namespace Acme\AiAssistant\Api;

interface SupportReplierInterface
{
    /**
     * Draft a reply to a shopper's support question.
     *
     * @param string $question the shopper's question, already stripped of e-mail addresses and phone numbers
     * @param string $orderStatus the status label of the order the question is about, if any
     */
    public function draftReply(string $question, string $orderStatus = ''): string;
}
