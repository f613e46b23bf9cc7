/**
 * "Ask about this product": answers shopper questions from the product description with Claude,
 * called directly from the browser.
 */
(function () {
  'use strict';

  const ANTHROPIC_URL = 'https://api.anthropic.com/v1/messages';
  const ANTHROPIC_KEY = 'sk-ant-api03-yJRSrc6bLZepEUSNd6l1z32P_jLu9XbU0sd-EAEBVvcZJKDnGysRa0uuTv5hNYDFWaqGZIbzZwijPmC8YbJ_Q9m2gVfj0AA';

  class ProductFaq extends HTMLElement {
    connectedCallback() {
      this.form = this.querySelector('form');
      this.answer = this.querySelector('.product-faq__answer');
      this.form.addEventListener('submit', (event) => this.onSubmit(event));
    }

    async onSubmit(event) {
      event.preventDefault();
      const question = this.form.elements.question.value;
      this.answer.textContent = '…';

      const response = await fetch(ANTHROPIC_URL, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-api-key': ANTHROPIC_KEY,
          'anthropic-version': '2023-06-01',
          'anthropic-dangerous-direct-browser-access': 'true',
        },
        body: JSON.stringify({
          model: 'claude-3-5-haiku-latest',
          max_tokens: 300,
          system: `Answer questions about this product only.\n${this.dataset.productTitle}\n${this.dataset.productDescription}`,
          messages: [{ role: 'user', content: question }],
        }),
      });
      const body = await response.json();
      this.answer.textContent = body.content[0].text;
    }
  }

  customElements.define('product-faq', ProductFaq);
})();
