/**
 * "Ask support" form: posts to the shop's own controller (aiassistant/support/reply).
 * No provider URL and no key in the browser; the server decides what leaves the shop.
 */
define([
    'jquery',
    'mage/translate'
], function ($, $t) {
    'use strict';

    return function (config, element) {
        var $form = $(element),
            $reply = $form.find('.acme-support__reply');

        $form.on('submit', function (event) {
            event.preventDefault();
            $reply.text($t('Thinking…'));

            $.ajax({
                url: $form.attr('action'),
                type: 'POST',
                dataType: 'json',
                data: $form.serialize()
            }).done(function (body) {
                $reply.text(body.reply || $t('Our team will answer by e-mail.'));
            }).fail(function () {
                $reply.text($t('Sorry, something went wrong. Please try again.'));
            });
        });
    };
});
