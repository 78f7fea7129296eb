"""Go text/template for Python, with Go's exact behaviour: the data model's Go types and values,
Go's YAML/JSON forms, gotpl adapted where it differs from Go, and a compiler of templates to
Python with a gotpl-free runtime. No Istio names: an application passes its function table in."""
