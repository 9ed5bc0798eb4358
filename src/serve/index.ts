// The `serve` module: an OpenAI-compatible (and Anthropic Messages-compatible) HTTP server for models
// loaded in this process, e.g. a GGUF model through the llama.cpp backend.
export { buildServer, type RunningServer, type ServeOptions, startServer } from "./create-server.js";
