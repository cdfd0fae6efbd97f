// A tiny page server for end-to-end playback: one HTML page that loads a real player library (hls.js, dash.js
// or Shaka, straight from node_modules) and plays a stream URL into a muted <video>. The stream itself is
// never served or proxied from here: it lives on another origin (Reel, or a reference server in tests), so
// the browser's CORS checks apply exactly as they would for a customer's player page.
//
// The page publishes what it observes on `window.reel` (see `PlayerState`); `play.ts` drives the browser.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type PlayerName = 'hls.js' | 'dash.js' | 'shaka';
export const PLAYERS: readonly PlayerName[] = ['hls.js', 'dash.js', 'shaka'];

/** One rendition / variant as the player reports it. */
export interface VariantInfo {
  id?: string | number;
  width?: number;
  height?: number;
  bandwidth?: number;
  codecs?: string;
  active?: boolean;
  type?: string;
  language?: string;
}

/**
 * Protected playback: what the page gives the player for key and licence delivery (Reel's forms, see
 * src/shared/content-protection.ts). Only key and licence requests carry the token, never manifests or segments.
 */
export interface DrmOptions {
  /**
   * A JWT sent as `Authorization: Bearer …` on AES-128 key requests (hls.js `xhrSetup`/`fetchSetup` for key
   * loads, Shaka's KEY requests) and ClearKey licence requests (Shaka's LICENSE requests, dash.js
   * `httpRequestHeaders`). Absent: the player asks without one (the negative case).
   */
  token?: string;
  /** Where the token goes: the Authorization header (default), or `?token=` on the key/licence URL. */
  tokenIn?: 'header' | 'query';
  /** W3C ClearKey licence server (Shaka `drm.servers['org.w3.clearkey']`, dash.js protection data `serverURL`). */
  clearKeyLicenseUrl?: string;
}

/** A key or licence request as the page saw it (XMLHttpRequest and fetch are watched for every player). */
export interface KeyRequest {
  /** 'key': an AES-128 key; 'license': a ClearKey licence (a POST to the licence URL or `…/clearkey`). */
  kind: 'key' | 'license';
  method: string;
  url: string;
  /** HTTP status; 0 when the request failed without a response (network, CORS). Undefined while in flight. */
  status?: number;
  /** An Authorization header was set on the request, or its URL has a `token` parameter. */
  withToken: boolean;
}

/** What the page exposes on `window.reel`, refreshed on media events and every 100 ms. */
export interface PlayerState {
  player: PlayerName;
  /** Version of the player library that ran. */
  playerVersion: string;
  src: string;
  state: 'loading' | 'playing' | 'ended' | 'error';
  /**
   * Who declared the end: 'element' (the video's ended event/attribute) or 'player' (dash.js's own
   * playbackEnded for the last period, fired when it stops the element at the stream end itself).
   */
  endedBy?: 'element' | 'player';
  currentTime: number;
  /** `video.duration` (NaN/Infinity are reported as 0 / -1). */
  duration: number;
  /** `video.playbackRate` right now, and the rate the harness asked for. */
  playbackRate: number;
  requestedRate: number;
  paused: boolean;
  readyState: number;
  videoWidth: number;
  videoHeight: number;
  /** Fatal player errors, media element errors, uncaught page errors. Any entry means the run failed. */
  errors: string[];
  /** Non-fatal player errors (retried loads, recovered stalls…): reported, not failures by themselves. */
  warnings: string[];
  /** Renditions the player knows about (video variants; audio tracks are listed with `type: 'audio'`). */
  variants: VariantInfo[];
  /** `getVideoPlaybackQuality().totalVideoFrames` / `droppedVideoFrames`. */
  decodedFrames: number;
  droppedFrames: number;
  /** `video.played` as [start, end] pairs: what was actually played (no seeking ⇒ one range from 0). */
  played: Array<[number, number]>;
  /** `video.buffered` as [start, end] pairs. */
  buffered: Array<[number, number]>;
  /** Shaka only: 'MEDIA_SOURCE' or 'SRC_EQUALS'. */
  loadMode?: string;
  /** performance.now() milestones in the page. */
  timings: { start: number; firstPlaying?: number; ended?: number; error?: number };
  /** A short event log (state changes, waiting/stalled, rate changes) for diagnosing failures. */
  log: string[];
  /** Key and licence requests in the order sent (see `KeyRequest`). */
  keyRequests: KeyRequest[];
  /** Player errors about keys, licences or the CDM (also in `errors` when fatal). */
  drmErrors: string[];
}

/**
 * What `window.reelLive.info()` reports on a live stream, in `video.currentTime` terms, from each player's own API.
 * `edge` is the latest position the player would play live from: hls.js the end of the last listed segment
 * (`details.edge`), dash.js the end of its DVR window (`getDvrWindow().end`), Shaka the end of its seek range
 * (`seekRange().end`, which already leaves out Shaka's presentation delay).
 */
export interface LiveInfo {
  /** hls.js: the playlist is live; dash.js: `isDynamic()`; Shaka: `isLive()`. */
  isLive: boolean;
  windowStart: number;
  edge: number;
  currentTime: number;
  decodedFrames: number;
  paused: boolean;
  seeking: boolean;
  readyState: number;
  /** The page's fatal errors so far (see `PlayerState.errors`). */
  errors: string[];
}

/** The files a player page loads, relative to `node_modules`. */
export const PLAYER_LIBRARIES = {
  'hls.js': ['hls.js/dist/hls.min.js'],
  'dash.js': ['dashjs/dist/modern/umd/dash.all.min.js'],
  // mux.js first: Shaka uses `window.muxjs` (when present) to transmux MPEG-2 TS for MSE.
  shaka: ['mux.js/dist/mux.min.js', 'shaka-player/dist/shaka-player.compiled.js'],
} as const satisfies Record<PlayerName, readonly string[]>;

function findNodeModules(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'node_modules');
    if (fs.existsSync(path.join(candidate, 'hls.js', 'package.json'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('player libraries not found: install hls.js, dashjs, shaka-player and mux.js (npm install)');
    dir = parent;
  }
}

// Runs before the player libraries (Shaka keeps its own reference to fetch): records every key and licence
// request the page makes, whichever player makes it, with its status and whether it carried a token. A key or
// licence request is one to Reel's key delivery (`/keydelivery/`) or to the ClearKey licence URL given.
const WATCH_SCRIPT = String.raw`
(function () {
  var params = new URLSearchParams(location.search);
  var drm = JSON.parse(params.get('drm') || '{}');
  var list = window.reelKeyRequests = [];
  function kindOf(url, method) {
    var u = String(url);
    if (drm.clearKeyLicenseUrl && u.indexOf(drm.clearKeyLicenseUrl) === 0) return 'license';
    if (u.indexOf('/keydelivery/') < 0) return null;
    return method === 'POST' || /\/clearkey(\?|$)/.test(u) ? 'license' : 'key';
  }
  var open = XMLHttpRequest.prototype.open, setHeader = XMLHttpRequest.prototype.setRequestHeader, send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url) {
    this.__reel = { method: String(method).toUpperCase(), url: String(url), withToken: false };
    return open.apply(this, arguments);
  };
  XMLHttpRequest.prototype.setRequestHeader = function (name, value) {
    if (this.__reel && String(name).toLowerCase() === 'authorization' && value) this.__reel.withToken = true;
    return setHeader.apply(this, arguments);
  };
  XMLHttpRequest.prototype.send = function () {
    var r = this.__reel, kind = r && kindOf(r.url, r.method);
    if (kind) {
      var href = new URL(r.url, location.href);
      var entry = { kind: kind, method: r.method, url: href.href, withToken: r.withToken || href.searchParams.has('token') };
      list.push(entry);
      var xhr = this;
      this.addEventListener('loadend', function () { entry.status = xhr.status; });
    }
    return send.apply(this, arguments);
  };
  var realFetch = window.fetch;
  window.fetch = function (input, init) {
    var req = input instanceof Request ? input : null;
    var url = req ? req.url : String(input);
    var method = String((init && init.method) || (req && req.method) || 'GET').toUpperCase();
    var kind = kindOf(url, method);
    if (!kind) return realFetch.apply(this, arguments);
    var headers = new Headers((init && init.headers) || (req && req.headers) || undefined);
    var href = new URL(url, location.href);
    var entry = { kind: kind, method: method, url: href.href, withToken: !!headers.get('authorization') || href.searchParams.has('token') };
    list.push(entry);
    return realFetch.apply(this, arguments).then(
      function (res) { entry.status = res.status; return res; },
      function (err) { entry.status = 0; throw err; });
  };
})();
`;

// The page's script. Plain browser JavaScript kept as a string so no TypeScript/esbuild helpers leak into it.
const PAGE_SCRIPT = String.raw`
(function () {
  var params = new URLSearchParams(location.search);
  var playerName = params.get('player');
  var src = params.get('src');
  var rate = Number(params.get('rate') || '1');
  // 'live': join a live stream at the player's own live position (hls.js otherwise starts at the window start).
  var start = params.get('start');
  var drm = JSON.parse(params.get('drm') || '{}');
  var inQuery = drm.tokenIn === 'query';
  var bearer = drm.token && !inQuery ? 'Bearer ' + drm.token : null;
  function withQueryToken(url) {
    if (!drm.token || !inQuery) return url;
    var u = new URL(url, location.href);
    u.searchParams.set('token', drm.token);
    return u.href;
  }
  var video = document.getElementById('video');
  var s = window.reel = {
    player: playerName, playerVersion: '', src: src, state: 'loading', currentTime: 0, duration: 0,
    playbackRate: 1, requestedRate: rate, paused: true, readyState: 0, videoWidth: 0, videoHeight: 0,
    errors: [], warnings: [], variants: [], decodedFrames: 0, droppedFrames: 0, played: [], buffered: [],
    timings: { start: performance.now() }, log: [], keyRequests: window.reelKeyRequests || [], drmErrors: [],
  };
  function drmError(msg) { if (s.drmErrors.length < 50) s.drmErrors.push(msg); }
  var impl = null;
  // Live controls through each player's own API (impl.live): where the DVR window and the live edge are in
  // video.currentTime terms, a seek to some seconds behind the edge, and the return to live.
  window.reelLive = {
    info: function () {
      var i = impl && impl.live ? impl.live.info() : { isLive: false, windowStart: 0, edge: 0 };
      var q = video.getVideoPlaybackQuality ? video.getVideoPlaybackQuality() : { totalVideoFrames: 0 };
      return { isLive: !!i.isLive, windowStart: i.windowStart, edge: i.edge, currentTime: video.currentTime,
        decodedFrames: q.totalVideoFrames, paused: video.paused, seeking: video.seeking, readyState: video.readyState,
        errors: s.errors.slice() };
    },
    seekBehindEdge: function (seconds) { log('seek to ' + seconds + ' s behind the live edge'); return impl.live.seekBehindEdge(seconds); },
    goToLive: function () { log('go to live'); impl.live.goToLive(); },
  };
  var stuckSince = 0, stuckLogged = false;
  function log(msg) {
    if (s.log.length < 300) s.log.push((performance.now() - s.timings.start).toFixed(0) + 'ms ' + msg);
  }
  function fail(msg) {
    s.errors.push(msg);
    log('error: ' + msg);
    if (s.state !== 'ended' && s.state !== 'error') { s.state = 'error'; s.timings.error = performance.now(); }
    refresh();
  }
  function warn(msg) { if (s.warnings.length < 100) s.warnings.push(msg); log('warning: ' + msg); }
  function ranges(r) { var out = []; for (var i = 0; i < r.length; i++) out.push([r.start(i), r.end(i)]); return out; }
  function num(x) { return x === Infinity ? -1 : (typeof x === 'number' && !isNaN(x) ? x : 0); }
  function refresh() {
    s.currentTime = video.currentTime;
    s.duration = num(video.duration);
    s.playbackRate = video.playbackRate;
    s.paused = video.paused;
    s.readyState = video.readyState;
    s.videoWidth = video.videoWidth;
    s.videoHeight = video.videoHeight;
    s.played = ranges(video.played);
    s.buffered = ranges(video.buffered);
    if (video.getVideoPlaybackQuality) {
      var q = video.getVideoPlaybackQuality();
      s.decodedFrames = q.totalVideoFrames;
      s.droppedFrames = q.droppedVideoFrames;
    }
    // The 'ended' attribute is the definition of ended playback; the event is how we normally learn of it.
    if (video.ended && s.state === 'playing') {
      log('video.ended is true without an ended event');
      s.state = 'ended';
      s.endedBy = 'element';
      s.timings.ended = performance.now();
    }
    if (video.paused && !video.ended && s.state === 'playing' && s.duration > 0 && video.currentTime >= s.duration - 0.1) {
      stuckSince = stuckSince || performance.now();
      if (performance.now() - stuckSince > 2000 && !stuckLogged) { stuckLogged = true; log('paused at the end for 2 s but not ended'); }
    } else {
      stuckSince = 0;
    }
    try { if (impl && impl.variants) s.variants = impl.variants(); } catch (e) { /* player torn down */ }
    try { if (impl && impl.loadMode) s.loadMode = impl.loadMode(); } catch (e) { /* ignore */ }
  }
  window.addEventListener('error', function (e) { fail('page error: ' + (e.message || e)); });
  window.addEventListener('unhandledrejection', function (e) {
    var r = e.reason;
    fail('unhandled rejection: ' + (r && (r.message || r.code) ? (r.message || ('code ' + r.code)) : String(r)));
  });
  ['loadedmetadata', 'canplay', 'play', 'waiting', 'stalled', 'seeking', 'seeked', 'pause', 'durationchange', 'emptied', 'abort'].forEach(function (type) {
    video.addEventListener(type, function () {
      log(type + ' t=' + video.currentTime.toFixed(3) + ' d=' + video.duration + ' rs=' + video.readyState +
        (video.ended ? ' ended' : '') + ' buffered=' + JSON.stringify(ranges(video.buffered)));
    });
  });
  video.addEventListener('ratechange', function () { log('ratechange ' + video.playbackRate); });
  video.addEventListener('playing', function () {
    log('playing t=' + video.currentTime.toFixed(3));
    if (s.state === 'loading') { s.state = 'playing'; s.timings.firstPlaying = performance.now(); }
    // Players may reset the rate while loading; ask again once media flows (all three adopt external changes).
    if (video.playbackRate !== rate && video.playbackRate !== 0) video.playbackRate = rate;
    refresh();
  });
  function markEnded(by) {
    if (s.state !== 'error' && s.state !== 'ended') {
      s.state = 'ended';
      s.endedBy = by;
      s.timings.ended = performance.now();
    }
    refresh();
  }
  video.addEventListener('ended', function () {
    log('ended t=' + video.currentTime.toFixed(3));
    markEnded('element');
  });
  video.addEventListener('error', function () {
    var e = video.error;
    fail('video element error: ' + (e ? 'code ' + e.code + (e.message ? ' ' + e.message : '') : 'unknown'));
  });
  setInterval(refresh, 100);
  video.muted = true;
  video.defaultPlaybackRate = rate;
  video.playbackRate = rate;
  function play() {
    var p = video.play();
    if (p && p.catch) p.catch(function (e) { if (e && e.name !== 'AbortError') fail('video.play() rejected: ' + e.name + ': ' + e.message); });
  }

  if (!src) { fail('no src given'); return; }

  if (playerName === 'hls.js') {
    var Hls = window.Hls;
    if (!Hls) { fail('hls.js did not load'); return; }
    s.playerVersion = Hls.version;
    if (!Hls.isSupported()) { fail('hls.js: MediaSource not supported'); return; }
    var hlsConfig = { debug: false, enableWorker: true, startPosition: start === 'live' ? -1 : 0 };
    if (drm.token) {
      // The token goes on key loads only (context.type 'key'), not on playlists or segments.
      hlsConfig.xhrSetup = function (xhr, url, context) {
        if (!context || context.type !== 'key') return;
        xhr.open('GET', withQueryToken(url), true);
        if (bearer) xhr.setRequestHeader('Authorization', bearer);
      };
      hlsConfig.fetchSetup = function (context, init) {
        var isKey = context && context.type === 'key';
        if (isKey && bearer) { init.headers = new Headers(init.headers); init.headers.set('Authorization', bearer); }
        return new Request(isKey ? withQueryToken(context.url) : context.url, init);
      };
    }
    var hls = new Hls(hlsConfig);
    window.reelPlayer = hls;
    impl = {
      variants: function () {
        var v = (hls.levels || []).map(function (l, i) {
          return { id: i, width: l.width, height: l.height, bandwidth: l.bitrate, codecs: [l.videoCodec, l.audioCodec].filter(Boolean).join(','), active: i === hls.currentLevel, type: 'video' };
        });
        (hls.audioTracks || []).forEach(function (t, i) {
          v.push({ id: 'audio' + i, type: 'audio', language: t.lang, codecs: t.audioCodec, active: i === hls.audioTrack });
        });
        return v;
      },
    };
    function hlsDetails() {
      var level = hls.levels && hls.levels[hls.currentLevel >= 0 ? hls.currentLevel : 0];
      return level ? level.details : undefined;
    }
    impl.live = {
      info: function () {
        var d = hlsDetails();
        if (!d || !d.fragments.length) return { isLive: false, windowStart: 0, edge: 0 };
        return { isLive: d.live, windowStart: d.fragments[0].start, edge: d.edge };
      },
      seekBehindEdge: function (seconds) { var t = hlsDetails().edge - seconds; video.currentTime = t; return t; },
      goToLive: function () { video.currentTime = hls.liveSyncPosition; },
    };
    hls.on(Hls.Events.ERROR, function (_ev, data) {
      var msg = 'hls.js ' + data.type + '/' + data.details + (data.response && data.response.code ? ' HTTP ' + data.response.code : '') +
        (data.frag && data.frag.url ? ' ' + data.frag.url : data.url ? ' ' + data.url : data.context && data.context.url ? ' ' + data.context.url : '') +
        (data.reason ? ' (' + data.reason + ')' : data.error && data.error.message ? ' (' + data.error.message + ')' : '');
      if (data.type === Hls.ErrorTypes.KEY_SYSTEM_ERROR || /key/i.test(String(data.details))) drmError(msg);
      if (data.fatal) fail(msg); else warn(msg);
    });
    hls.on(Hls.Events.MANIFEST_PARSED, function (_ev, data) { log('manifest parsed, ' + data.levels.length + ' level(s)'); play(); });
    hls.on(Hls.Events.LEVEL_SWITCHED, function (_ev, data) { log('level switched ' + data.level); });
    hls.attachMedia(video);
    hls.loadSource(src);
  } else if (playerName === 'dash.js') {
    var dashjs = window.dashjs;
    if (!dashjs) { fail('dash.js did not load'); return; }
    var player = dashjs.MediaPlayer().create();
    window.reelPlayer = player;
    s.playerVersion = player.getVersion();
    impl = {
      variants: function () {
        var out = [];
        var current = player.getCurrentRepresentationForType('video');
        (player.getRepresentationsByType('video') || []).forEach(function (r) {
          out.push({ id: r.id, width: r.width, height: r.height, bandwidth: r.bandwidth, codecs: r.codecs || undefined, active: !!current && current.id === r.id, type: 'video' });
        });
        var currentAudio = player.getCurrentRepresentationForType('audio');
        (player.getRepresentationsByType('audio') || []).forEach(function (r) {
          out.push({ id: r.id, bandwidth: r.bandwidth, codecs: r.codecs || undefined, active: !!currentAudio && currentAudio.id === r.id, type: 'audio', language: r.mediaInfo ? r.mediaInfo.lang : undefined });
        });
        return out;
      },
    };
    impl.live = {
      info: function () {
        if (!player.isReady()) return { isLive: false, windowStart: 0, edge: 0 };
        var w = player.getDvrWindow();
        return { isLive: player.isDynamic(), windowStart: w.start, edge: w.end };
      },
      // seek() counts from the start of the DVR window and duration() is the window's length.
      seekBehindEdge: function (seconds) { var t = player.duration() - seconds; player.seek(t); return player.getDvrWindow().start + t; },
      goToLive: function () { player.seekToOriginalLive(); },
    };
    player.updateSettings({ debug: { logLevel: dashjs.Debug.LOG_LEVEL_WARNING } });
    var ev = dashjs.MediaPlayer.events;
    if (drm.clearKeyLicenseUrl) {
      // withCredentials: dash.js sends licence requests with cookies by default, which CORS refuses against
      // "Access-Control-Allow-Origin: *"; the token is the credential here.
      player.setProtectionData({
        'org.w3.clearkey': { serverURL: withQueryToken(drm.clearKeyLicenseUrl), httpRequestHeaders: bearer ? { Authorization: bearer } : {}, withCredentials: false },
      });
    }
    player.on(ev.ERROR, function (e) {
      var err = e.error || {};
      // dash.js numbers its protection (key system, licence) errors 100–199.
      if (err.code >= 100 && err.code < 200) drmError('dash.js error ' + err.code + ' ' + (err.message || ''));
      fail('dash.js error ' + (err.code !== undefined ? err.code + ' ' : '') + (err.message || JSON.stringify(err)));
    });
    player.on(ev.PLAYBACK_ERROR, function (e) { fail('dash.js playback error: ' + (e.error && e.error.message ? e.error.message : JSON.stringify(e.error))); });
    player.on(ev.STREAM_INITIALIZED, function () { log('stream initialized'); });
    // dash.js runs its own end-of-stream check (every 200 ms: time to stream end <= 0) and, when it wins the
    // race against the element's 'ended' (common on a loaded machine), seeks to the stream end and pauses the
    // element, which then never fires 'ended'. For dash.js that event *is* the end of playback.
    player.on(ev.PLAYBACK_ENDED, function (e) {
      log('dash.js playbackEnded isLast=' + (e && e.isLast) + ' t=' + video.currentTime.toFixed(3) + (video.ended ? ' (element ended)' : ' (element not ended)'));
      if (!e || e.isLast !== false) markEnded('player');
    });
    player.initialize(video, src, true);
    // TTML subtitles (fMP4 stpp) are rendered into a div, which dash.js needs once the view is attached and before
    // the stream's text loads (the manifest is still being fetched).
    var ttmlDiv = document.createElement('div');
    ttmlDiv.id = 'ttml';
    document.body.appendChild(ttmlDiv);
    player.attachTTMLRenderingDiv(ttmlDiv);
  } else if (playerName === 'shaka') {
    var shaka = window.shaka;
    if (!shaka) { fail('Shaka did not load'); return; }
    s.playerVersion = shaka.Player.version;
    shaka.polyfill.installAll();
    if (!shaka.Player.isBrowserSupported()) { fail('Shaka: browser not supported'); return; }
    var sp = new shaka.Player();
    window.reelPlayer = sp;
    impl = {
      variants: function () {
        return sp.getVariantTracks().map(function (t) {
          return { id: t.id, width: t.width || undefined, height: t.height || undefined, bandwidth: t.bandwidth, codecs: t.codecs || undefined, active: t.active, type: 'variant', language: t.language || undefined };
        });
      },
      loadMode: function () {
        var m = sp.getLoadMode();
        for (var k in shaka.Player.LoadMode) if (shaka.Player.LoadMode[k] === m) return k;
        return String(m);
      },
    };
    impl.live = {
      info: function () {
        var r = sp.seekRange();
        return { isLive: sp.isLive(), windowStart: r.start, edge: r.end };
      },
      seekBehindEdge: function (seconds) { var t = sp.seekRange().end - seconds; video.currentTime = t; return t; },
      goToLive: function () { sp.goToLive(); },
    };
    function describe(err) {
      if (!err) return 'unknown';
      var d = err.data ? ' data=' + JSON.stringify(err.data.map(function (x) {
        return x && typeof x === 'object' ? (x.message || x.code || String(x)) : x;
      })) : '';
      return 'code ' + err.code + ' category ' + err.category + ' severity ' + err.severity + d + (err.message ? ' ' + err.message : '');
    }
    if (drm.clearKeyLicenseUrl) sp.configure({ drm: { servers: { 'org.w3.clearkey': drm.clearKeyLicenseUrl } } });
    var RT = shaka.net.NetworkingEngine.RequestType;
    if (drm.token) {
      // LICENSE: ClearKey licence requests; KEY: HLS AES-128 (and identity/raw key) fetches. Nothing else.
      sp.getNetworkingEngine().registerRequestFilter(function (type, request) {
        if (type !== RT.LICENSE && type !== RT.KEY) return;
        if (bearer) request.headers['Authorization'] = bearer;
        else request.uris = request.uris.map(withQueryToken);
      });
    }
    // Category 6 is DRM; a failed HTTP request (1001/1002) names its request type in data[4].
    function isDrmError(err) {
      return !!err && (err.category === 6 || ((err.code === 1001 || err.code === 1002) && !!err.data && (err.data[4] === RT.LICENSE || err.data[4] === RT.KEY)));
    }
    sp.addEventListener('error', function (e) {
      var err = e.detail;
      if (isDrmError(err)) drmError('Shaka ' + describe(err));
      // Severity 2 is CRITICAL (playback cannot continue); 1 is RECOVERABLE.
      if (err && err.severity === 1) warn('Shaka ' + describe(err)); else fail('Shaka ' + describe(err));
    });
    sp.attach(video).then(function () { return sp.load(src); }).then(function () {
      log('shaka loaded (' + impl.loadMode() + ')');
      play();
    }).catch(function (err) {
      // Load interrupted by our own teardown is not a stream error.
      if (err && err.code === 7000) return;
      if (isDrmError(err)) drmError('Shaka ' + describe(err));
      fail('Shaka load failed: ' + describe(err));
    });
  } else {
    fail('unknown player ' + playerName);
  }
})();
`;

function pageHtml(player: PlayerName): string {
  const scripts = PLAYER_LIBRARIES[player].map((lib) => `<script src="/lib/${lib}"></script>`).join('\n');
  return `<!doctype html>
<html>
<head>
<meta charset="utf-8">
<title>Reel e2e: ${player}</title>
<link rel="icon" href="data:,">
<style>html,body{margin:0;background:#000}video{width:640px;height:360px;display:block}</style>
<script>${WATCH_SCRIPT}</script>
${scripts}
</head>
<body>
<video id="video" muted autoplay playsinline></video>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

export interface PlayerPageServer {
  /** e.g. http://127.0.0.1:41234 */
  origin: string;
  /** The page that plays `src` with `player` at `playbackRate`, with `drm` for protected streams. */
  pageUrl(options: { player: PlayerName; src: string; playbackRate?: number; drm?: DrmOptions; startAtLiveEdge?: boolean }): string;
  close(): Promise<void>;
}

const LIB_FILES: ReadonlySet<string> = new Set(Object.values(PLAYER_LIBRARIES).flat());

/** Serves the player pages and the player libraries (only those files) on 127.0.0.1, on a random port. */
export async function startPlayerPageServer(): Promise<PlayerPageServer> {
  const nodeModules = findNodeModules();
  for (const lib of LIB_FILES) {
    if (!fs.existsSync(path.join(nodeModules, lib))) throw new Error(`player library missing: node_modules/${lib}`);
  }
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (url.pathname === '/player.html') {
      const player = url.searchParams.get('player');
      if (!PLAYERS.includes(player as PlayerName)) return send(400, 'text/plain', `unknown player ${player}`);
      return send(200, 'text/html; charset=utf-8', pageHtml(player as PlayerName));
    }
    if (url.pathname.startsWith('/lib/')) {
      const lib = url.pathname.slice('/lib/'.length);
      if (LIB_FILES.has(lib)) {
        return fs.readFile(path.join(nodeModules, lib), (err, data) => {
          if (err) send(500, 'text/plain', String(err));
          else send(200, 'text/javascript; charset=utf-8', data);
        });
      }
    }
    send(404, 'text/plain', 'not found');
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    pageUrl({ player, src, playbackRate = 1, drm, startAtLiveEdge }) {
      const q = new URLSearchParams({ player, src, rate: String(playbackRate) });
      if (drm) q.set('drm', JSON.stringify(drm));
      if (startAtLiveEdge) q.set('start', 'live');
      return `${origin}/player.html?${q}`;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
