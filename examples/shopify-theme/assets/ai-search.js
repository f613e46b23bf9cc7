/**
 * Semantic product search: embeds the shopper's query in the browser and ranks the
 * product vectors pre-computed into assets/product-vectors.json.
 */
(function () {
  'use strict';

  const EMBEDDINGS_URL = 'https://api.openai.com/v1/embeddings';
  const OPENAI_KEY = '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';

  async function embed(text) {
    const response = await fetch(EMBEDDINGS_URL, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Authorization: `Bearer ${OPENAI_KEY}`,
      },
      body: JSON.stringify({ model: 'text-embedding-3-small', input: text }),
    });
    const body = await response.json();
    return body.data[0].embedding;
  }

  function cosine(a, b) {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let i = 0; i < a.length; i += 1) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    return dot / (Math.sqrt(na) * Math.sqrt(nb));
  }

  class AiSearch extends HTMLElement {
    connectedCallback() {
      this.input = this.querySelector('input[type="search"]');
      this.results = this.querySelector('.ai-search__results');
      this.querySelector('form').addEventListener('submit', (event) => {
        event.preventDefault();
        this.search(this.input.value.trim());
      });
    }

    async search(query) {
      if (!query) return;
      const [vector, products] = await Promise.all([
        embed(query),
        fetch(this.dataset.vectorsUrl).then((r) => r.json()),
      ]);
      const ranked = products
        .map((p) => ({ ...p, score: cosine(vector, p.vector) }))
        .sort((x, y) => y.score - x.score)
        .slice(0, 8);
      this.results.replaceChildren(
        ...ranked.map((p) => {
          const a = document.createElement('a');
          a.href = p.url;
          a.textContent = p.title;
          return a;
        })
      );
    }
  }

  customElements.define('ai-search', AiSearch);
})();
