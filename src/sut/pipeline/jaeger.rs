//! Jaeger v2 as the backend at the end of a pipeline: started with a
//! generated config (in-memory store; every listener on 127.0.0.1), read back
//! through its query API.
