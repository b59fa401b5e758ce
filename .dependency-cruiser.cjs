// Import rules, checked in CI (`npm run check:imports`):
// 1. no import cycles in any package;
// 2. a server room (a folder of packages/server/src) is entered only through its index.ts;
// 3. server rooms are layered (DESIGN §7): a room imports only rooms of lower layers, so
//    there are no cycles between rooms either. Mechanism rooms never import registry or api.
const SERVER = '^packages/server/src/';

// Lowest first. Rooms in one layer do not import each other.
const LAYERS = [
  ['log', 'host', 'io'],
  ['network', 'storage', 'runtime'],
  ['config'],
  ['registry'],
  ['policy'],
  ['lifecycle'],
  ['access'],
  ['url'],
  ['forward'],
  ['api'],
  ['daemon'],
  ['main', 'index'],
];

const roomPath = (room) => `${SERVER}${room}(\\.ts$|/)`;

const layerRules = LAYERS.flatMap((layer, i) => {
  const notBelow = LAYERS.slice(i).flat();
  return layer.map((room) => ({
    name: `server-layers-${room}`,
    comment: `${room} may import only rooms of lower layers (see LAYERS in .dependency-cruiser.cjs)`,
    severity: 'error',
    from: { path: roomPath(room), pathNot: '\\.test\\.ts$' },
    to: { path: notBelow.filter((other) => other !== room).map(roomPath) },
  }));
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'import cycles make load order fragile and rooms inseparable',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'server-room-door',
      comment: 'another server room is entered only through its index.ts (DESIGN §7)',
      severity: 'error',
      from: { path: `${SERVER}([^/]+)` },
      to: { path: `${SERVER}[^/]+/`, pathNot: [`${SERVER}$1/`, `${SERVER}[^/]+/index\\.ts$`] },
    },
    {
      name: 'sdk-portable-core',
      comment: 'the SDK core runs in browsers too: node:* modules (even as types) only under packages/sdk/src/node/',
      severity: 'error',
      from: { path: '^packages/sdk/src/', pathNot: ['^packages/sdk/src/node/', '\\.test\\.ts$'] },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'protocol-is-pure',
      comment: 'packages/protocol is wire vocabulary: no I/O, no node:* modules, no dependencies',
      severity: 'error',
      from: { path: '^packages/protocol/src/', pathNot: '\\.test\\.ts$' },
      to: { dependencyTypes: ['core', 'npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'] },
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/' },
    tsConfig: { fileName: 'tsconfig.tests.json' },
    tsPreCompilationDeps: true,
  },
};
