"""The matching engine: which published listings pair up (``services``), how a pair is
scored and explained (``scoring``), and the matches an actor may read (``selectors``)."""
