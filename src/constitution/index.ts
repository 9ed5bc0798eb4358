// The constitution part of cai's library API: the file format, loading and hashing, prompt templates,
// principle sampling and importers of other tools' formats.
export {
  type ComparisonExample,
  type ComparisonPrinciple,
  type Constitution,
  type ConstitutionInput,
  type ConstitutionTemplates,
  type CritiqueExample,
  type CritiquePrinciple,
  constitutionSchema,
} from "./constitution-schema.js";
export { type ConstitutionToYamlOptions, constitutionToYaml } from "./constitution-yaml.js";
export {
  detectImportFormat,
  type ImportConstitutionOptions,
  type ImportFormat,
  type ImportResult,
  importConstitution,
  importFormats,
} from "./importers/import-constitution.js";
export { constitutionJsonSchema, constitutionJsonSchemaPath } from "./json-schema.js";
export {
  builtInConstitutionPath,
  constitutionHash,
  defaultConstitutionPath,
  loadConstitution,
  loadDefaultConstitution,
  parseConstitution,
} from "./load-constitution.js";
export { samplePrinciple } from "./sampling.js";
export { TemplateError } from "./template-error.js";
export {
  type ComparisonVars,
  defaultTemplates,
  type ResolvedTemplates,
  renderConversation,
  renderTemplate,
  resolveTemplates,
  splitAnswerPrefix,
  type TemplateName,
  type TurnRenderers,
  templatePlaceholders,
  turnRenderers,
} from "./templates.js";
