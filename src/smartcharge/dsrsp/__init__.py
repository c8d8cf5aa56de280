"""The DSR service provider (DSRSP): an OpenADR 2.0b VTN with routine and response DSR programmes."""
