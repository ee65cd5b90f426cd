// Protocols
