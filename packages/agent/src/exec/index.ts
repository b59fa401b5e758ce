export { ExecParamError, parseExecParams, type ExecParams } from './params.js';
export { commandEnvironment, resolveCommand, SPRITE_USER } from './environment.js';
export { startSession } from './start.js';
export { httpExec } from './http.js';
