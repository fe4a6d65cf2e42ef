//! The bundled sandbox server.
