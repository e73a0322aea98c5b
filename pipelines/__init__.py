"""dangan: graduate archive-transfer registration (毕业生档案信息登记).

The package holds everything below the pages: domain rules, the store (the one module that
writes), import pipelines, demo data and the `dangan` CLI. The dashboard imports from here.
"""
