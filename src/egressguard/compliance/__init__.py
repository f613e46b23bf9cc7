"""The compliance pack (issue 6): documents a DPO and counsel need, drafted from measurements.

    activities.py   AI processing activities derived from a ScanResult (+ the vendor register)
    vendors.py      the vendor/DPA register (vendors.yaml): load, pre-fill, gaps
    ropa.py         Art. 30(1) records of processing: CSV and XLSX
    controls.py     the control matrix: GDPR, NIS2, NIST AI RMF, ISO 27001, PCI DSS status
    dpia.py         the Art. 35(7) DPIA draft: Markdown and HTML
    data/controls.toml  control titles (from the crosswalk), "verify" where unverified

Everything here is a pure function of its inputs: the CLI reads files and writes documents.
"""
