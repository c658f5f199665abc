"""Public-data opening (公共数据开放, standard 6.2): suppression, publication, portal."""
