// GraphQL Code Generator config for a front-end that calls gymgraph: typed operations from the
// `graphql()` calls and .graphql files of the app, checked against the committed schema.graphql.
//
// Not part of this repository's build or tests (tsconfig does not include examples/, jest runs
// only *.test.ts): copy it into your front-end, then
//   npm i -D @graphql-codegen/cli @graphql-codegen/client-preset
//   npx graphql-codegen --config codegen.ts
// The codegen CLI reads the config from a default export, hence the one default export here.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  // A path to gymgraph's schema.graphql, or the URL of a running instance with introspection on.
  schema: '../../schema.graphql',
  documents: ['src/**/*.{ts,tsx,vue,graphql}'],
  ignoreNoDocuments: true,
  generates: {
    './src/gql/': {
      preset: 'client',
      config: {
        // Our custom scalars, as they travel in JSON.
        scalars: {
          // graphql-scalars' DateTimeISO: an ISO 8601 string ("2025-11-24T16:00:00.000Z").
          DateTimeISO: 'string',
          // An event's `content`: any JSON object.
          JSONObject: 'Record<string, unknown>',
          // Every id, studio ids included: strings in answers; variables take strings (or ints).
          ID: { input: 'string | number', output: 'string' },
        },
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
};

export default config;
