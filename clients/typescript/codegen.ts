// Types of the operations in src/operations.ts, generated from the server's exported
// schema (`python manage.py export_schema` writes ../../schema.graphql).
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../../schema.graphql",
  documents: ["src/operations.ts"],
  generates: {
    "src/generated/graphql.ts": {
      plugins: ["typescript", "typescript-operations"],
      config: {
        // Every scalar typed, none left as `any` (DateTime: RFC 3339 UTC text, 6 fractional digits;
        // Decimal: an exact amount of money as text with two decimals, "1234.50").
        strictScalars: true,
        scalars: { DateTime: "string", Date: "string", Time: "string", ID: "string", Decimal: "string" },
        enumsAsTypes: true,
        useTypeImports: true,
        onlyOperationTypes: true,
        avoidOptionals: { field: true, inputValue: false, object: false, defaultValue: false },
      },
    },
  },
};

export default config;
