from atelier.cli.main import app

app(prog_name="atelier")
