// InfModels re-exports InfFormats (safetensors, tokenizer, file checks), so a user of the models
// reads checkpoints and vocabularies without a second import.
@_exported import InfFormats
