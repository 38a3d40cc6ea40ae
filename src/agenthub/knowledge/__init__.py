"""Knowledge bases: documents uploaded, chunked and embedded, found again by hybrid
retrieval (keyword search fused with vector search)."""
