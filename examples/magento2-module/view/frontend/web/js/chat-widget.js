/**
 * Storefront chat bubble: talks to OpenAI straight from the shopper's browser.
 */
define([
    'jquery',
    'Magento_Customer/js/customer-data'
], function ($, customerData) {
    'use strict';

    var OPENAI_URL = 'https://api.openai.com/v1/chat/completions';
    // TODO(acme): remove the fallback once every store view has a key in config.
    var FALLBACK_KEY = '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';

    function context() {
        var customer = customerData.get('customer')(),
            cart = customerData.get('cart')();

        return 'Shopper: ' + (customer.fullname || 'guest') +
            ' (first name ' + (customer.firstname || '-') + ')\n' +
            'Cart: ' + (cart.items || []).map(function (item) {
                return item.qty + ' x ' + item.product_name + ' @ ' + item.product_price_value;
            }).join(', ') + '\n' +
            'Cart subtotal: ' + (cart.subtotalAmount || 0);
    }

    function ask(text) {
        var config = window.acmeAiChatConfig || {};

        return fetch(OPENAI_URL, {
            method: 'POST',
            headers: {
                'Content-Type': 'application/json',
                'Authorization': 'Bearer ' + (config.apiKey || FALLBACK_KEY)
            },
            body: JSON.stringify({
                model: config.model || 'gpt-4o-mini',
                messages: [
                    {role: 'system', content: 'You are the shop assistant. ' + context()},
                    {role: 'user', content: text}
                ]
            })
        }).then(function (response) {
            return response.json();
        }).then(function (body) {
            return body.choices[0].message.content;
        });
    }

    return function (config, element) {
        var $root = $(element),
            $log = $root.find('.acme-ai-chat__log');

        $root.find('.acme-ai-chat__toggle').on('click', function () {
            $root.find('.acme-ai-chat__panel').prop('hidden', function (i, hidden) {
                return !hidden;
            });
        });

        $root.find('.acme-ai-chat__form').on('submit', function (event) {
            var $input = $(this).find('input[name="message"]'),
                text = $input.val();

            event.preventDefault();
            $input.val('');
            $('<li class="from-shopper"/>').text(text).appendTo($log);
            ask(text).then(function (answer) {
                $('<li class="from-assistant"/>').text(answer).appendTo($log);
            });
        });
    };
});
