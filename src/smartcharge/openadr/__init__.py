"""Interface A adapter (OpenADR 2.0b): the only code that imports ``openleadr``."""
