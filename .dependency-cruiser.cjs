// The import directions of docs/ARCHITECTURE.md ("Folders") as rules, checked by `npm run lint` (and so by
// `npm test`): a wrong arrow fails the build instead of waiting for review. Layers, bottom up:
//   shared ← config, store, storage ← queue ← control, media ← main.ts
// and the packager, a pure library, at the side of the media plane.
// Test files (*.test.ts and the *.contract.ts suites) may reach across layers to set things up.
const tests = ['\\.test\\.ts$', '\\.contract\\.ts$', '^src/media/packager/mux/manifest/test-presentations\\.ts$'];
const layer = (name, comment, from, allowed) => ({
  name,
  comment,
  severity: 'error',
  from: { path: from, pathNot: tests },
  to: { path: '^src/', pathNot: allowed },
});

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'Import cycles make load order matter and blur which module owns what.',
      severity: 'error',
      from: { path: '^(src|test|bench)/' },
      to: { circular: true },
    },
    layer('shared-imports-nothing', 'src/shared is the bottom layer: it imports nothing of ours.', '^src/shared/', ['^src/shared/']),
    layer('config-imports-shared-only', 'src/config turns the environment into settings; it imports only src/shared.', '^src/config/', [
      '^src/config/',
      '^src/shared/',
    ]),
    layer('store-imports-shared-only', 'src/store (Kysely) sits below both planes and imports only src/shared.', '^src/store/', [
      '^src/store/',
      '^src/shared/',
    ]),
    layer('storage-imports-shared-only', 'src/storage (blob stores) sits below both planes and imports only src/shared.', '^src/storage/', [
      '^src/storage/',
      '^src/shared/',
    ]),
    layer('queue-imports-shared-and-store', 'src/queue imports only src/shared and src/store.', '^src/queue/', ['^src/queue/', '^src/shared/', '^src/store/']),
    layer('control-never-imports-media', 'The control plane never imports the media plane (they run as separate roles).', '^src/control/', [
      '^src/control/',
      '^src/shared/',
      '^src/store/',
      '^src/storage/',
      '^src/queue/',
    ]),
    {
      name: 'media-never-imports-control',
      comment: 'The media plane (origin, worker) runs without the control plane: it never imports src/control.',
      severity: 'error',
      from: { path: '^src/media/' },
      to: { path: '^src/control/' },
    },
    {
      name: 'packager-is-pure',
      comment:
        'src/media/packager is bytes in, bytes out: it imports only itself, src/shared and a pure XML parser; no Fastify, storage, database or file system.',
      severity: 'error',
      from: { path: '^src/media/packager/', pathNot: tests },
      to: { pathNot: ['^src/media/packager/', '^src/shared/', '^node_modules/fast-xml-parser/', '^(node:)?(buffer|crypto|zlib|util|string_decoder)$'] },
    },
    {
      name: 'only-main-names-storage-drivers',
      comment:
        'src/blob-store-factory.ts (used by the composition roots) is the only module that names a concrete storage driver; everything else uses BlobStore.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/blob-store-factory\\.ts$', '^src/storage/drivers/', ...tests] },
      to: { path: '^src/storage/drivers/' },
    },
    {
      name: 'console-uses-the-api-only',
      comment: 'The web console is a client of the public API; it imports nothing from the server.',
      severity: 'error',
      from: { path: '^console/' },
      to: { path: '^(src|test|bench)/' },
    },
    {
      name: 'src-never-imports-tests',
      comment: 'Shipped code never depends on test helpers.',
      severity: 'error',
      from: { path: '^src/', pathNot: tests },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|console/dist|bench/\\.build|test/fixtures/\\.cache)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
