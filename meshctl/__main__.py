from meshctl.cli.main import entry

entry()
