export { handleServices, type ServicesTarget } from './http.js';
export { Supervisor, type ServiceEvent, type ServiceStatus } from './supervisor.js';
export { ServiceError } from './definition.js';
