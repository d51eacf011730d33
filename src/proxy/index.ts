/** `signet proxy`: a trust-enforcing OCI distribution proxy (docs/proxy.md). */
export {
  createProxyHandler,
  startProxy,
  defaultRegistryName,
  DEFAULT_LIMITS,
  type ProxyOptions,
  type ProxyLimits,
  type ProxyHandler,
  type RunningProxy,
} from './server.js';
export { createObserver, type Observer, type Decision, type DecisionRecord } from './observe.js';
export { parseRoute, type Route } from './oci.js';
