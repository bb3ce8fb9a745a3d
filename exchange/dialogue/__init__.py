"""The dialogue on a match: expressions of interest, messages, the decision and read
state (``services``), and the thread and read-state reads (``selectors``)."""
