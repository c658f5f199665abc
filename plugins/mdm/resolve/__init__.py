"""Entity resolution: source records -> persistent entity ids (``resolve.*``)."""
