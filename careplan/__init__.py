"""careplan: coordinated, multidisciplinary care scheduling for a clinic."""
