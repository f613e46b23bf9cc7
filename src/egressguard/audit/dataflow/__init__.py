"""Data-flow analysis: which shop data reaches each AI call (PHP, JavaScript, Liquid).

    parse.py        tree-sitter parsers (PHP, JS, TS)
    flow.py         Flow values and their severity -> data-flow-to-ai hits
    analyser.py     DataFlowAnalyser: dispatch per language, one finding per AI call
    php.py          Magento/PHP sources, sinks, propagation (one level across files via DI)
    javascript.py   browser and Node sources, sinks, propagation (one level across files
                    through ES imports / require: js_modules, js_incoming, js_callers)
    liquid.py       Shopify Liquid objects rendered into scripts/attributes, inline scripts
The source/sink/sanitiser vocabulary is data: src/egressguard/catalog/dataflow/*.toml.
"""
