import type { LiveEventControl, LiveEndpointUrl } from './live-event-control.js';

/**
 * The `LiveEventControl` of a process without the live runtime (an API-only process: live runs where the api and
 * origin roles are together, see main.ts): every desired state counts as reached at once
 * (nothing ingests, nothing records), there is no health, and `input.endpoints` show the RTMP URL an encoder
 * would use. REPLACED when the live runtime (src/media/live) is wired in main.ts (`liveEventControl` there).
 */
export function unwiredLiveControl(options: { ingestHost: () => string }): LiveEventControl {
  return {
    reconcile: async () => undefined,
    health: () => undefined,
    ingestEndpoints: ({ protocol, accessToken, host = options.ingestHost() }): LiveEndpointUrl[] => {
      if (protocol === 'SRT') return [{ protocol: 'SRT', url: `srt://${host}:6000?passphrase=${accessToken}&pbkeylen=16` }];
      if (protocol === 'RTMPS') return [{ protocol: 'RTMPS', url: `rtmps://${host}:2935/${accessToken}` }];
      return [{ protocol: 'RTMP', url: `rtmp://${host}:1935/${accessToken}` }];
    },
  };
}
