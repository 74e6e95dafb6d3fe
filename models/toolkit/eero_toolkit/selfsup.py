def add_selfsup_parser(sub):
    pass
