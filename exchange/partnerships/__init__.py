"""Partnerships between governments: the writes (``services``), the reads
(``selectors``) and the checks of an uploaded document (``documents``); who may do
what is ``exchange.access``."""
