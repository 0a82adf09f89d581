// The page the e2e tests load in headless Chromium. It reads its scenario
// from the query string, runs it with @moq/net against the moqgo server
// named by ?relay=, and reports every step back to the Go test by POSTing
// JSON to /report on the origin that served it.
import * as Moq from "@moq/net";

const params = new URLSearchParams(location.search);
const scenario = params.get("case") ?? "";
const relay = new URL(params.get("relay") ?? "");
const path = Moq.Path.from(params.get("path") ?? "e2e");
const trackName = params.get("track") ?? "data";
const groups = Number(params.get("groups") ?? "3");
const frames = Number(params.get("frames") ?? "4");
const timeoutMs = Number(params.get("timeout") ?? "15000");

// report sends one event to the test. Events are sent in order.
let chain: Promise<unknown> = Promise.resolve();
function report(event: string, data: Record<string, unknown> = {}): Promise<unknown> {
	const body = JSON.stringify({ event, ...data });
	chain = chain.then(() =>
		fetch("/report", { method: "POST", body, headers: { "Content-Type": "application/json" } }).catch(() => {}),
	);
	return chain;
}

// Who waits for a console line (see logged).
const logWaiters: { prefix: string; resolve: () => void }[] = [];

// Console output goes to the test too, so a failure shows @moq/net's own view.
for (const level of ["debug", "log", "info", "warn", "error"] as const) {
	const orig = console[level].bind(console);
	console[level] = (...args: unknown[]) => {
		orig(...args);
		const text = args.map((a) => (a instanceof Error ? a.message : String(a))).join(" ");
		for (const w of [...logWaiters]) {
			if (text.startsWith(w.prefix)) {
				logWaiters.splice(logWaiters.indexOf(w), 1);
				w.resolve();
			}
		}
		void report("log", { level, text });
	};
}

// logged resolves when @moq/net next logs a line starting with prefix: the
// only sign it gives that it has written a request (call it before the
// request is made).
function logged(prefix: string): Promise<void> {
	return withTimeout(new Promise<void>((resolve) => logWaiters.push({ prefix, resolve })), `@moq/net to log "${prefix}"`);
}

function withTimeout<T>(p: Promise<T>, what: string, ms = timeoutMs): Promise<T> {
	return Promise.race([
		p,
		new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms}ms: ${what}`)), ms)),
	]);
}

// waitFor polls the test for a go-ahead event (the test answers /wait?name=
// once it has done its part), so the page never races the Go side.
async function waitFor(name: string): Promise<void> {
	const resp = await withTimeout(fetch(`/wait?name=${encodeURIComponent(name)}`), `test signal ${name}`);
	if (!resp.ok) throw new Error(`wait ${name}: HTTP ${resp.status}`);
}

async function connect(): Promise<Moq.Connection.Established> {
	const conn = await withTimeout(Moq.Connection.connect(relay, { websocket: { enabled: false } }), "connect");
	await report("connected", { version: conn.version });
	return conn;
}

// payload is the frame content both sides agree on.
function payload(group: number, frame: number): string {
	return `${trackName} group ${group} frame ${frame} ` + "x".repeat(frame * 7);
}

// publishTrack serves trackName on a new broadcast at path and writes groups
// x frames once a subscriber asks for the track.
async function publishTrack(conn: Moq.Connection.Established, at: Moq.Path.Valid): Promise<Moq.Broadcast.Producer> {
	const broadcast = new Moq.Broadcast.Producer();
	conn.publish(at, broadcast);
	await report("published", { path: at });
	void (async () => {
		for (;;) {
			const req = await broadcast.requested();
			if (!req) return;
			if (req.name !== trackName) {
				req.reject(new Error("no such track"));
				continue;
			}
			const track = req.accept();
			await report("requested", { track: req.name });
			for (let g = 0; g < groups; g++) {
				const group = track.appendGroup();
				for (let f = 0; f < frames; f++) group.writeString(payload(g, f));
				group.close();
			}
			await report("written", { groups, frames });
			// A live track stays open while it is watched: @moq/net's PUBLISH_DONE
			// always says it opened 0 streams, so closing now could end the
			// subscription before the data streams reach the subscriber.
			void waitFor("received").then(() => track.close());
		}
	})();
	return broadcast;
}

// readTrack subscribes to trackName on broadcast and collects frames until
// groups x frames have arrived, returning them by group sequence.
async function readTrack(broadcast: Moq.Broadcast.Consumer): Promise<Record<number, string[]>> {
	const sub = broadcast.track(trackName).subscribe({ startGroup: 0 });
	const total = groups * frames;
	const got: Record<number, string[]> = {};
	const dec = new TextDecoder();
	let count = 0;
	const complete = new Promise<void>((resolve, reject) => {
		const readers: Promise<void>[] = [];
		(async () => {
			for (;;) {
				const group = await sub.recvGroup();
				if (!group) break;
				const list: string[] = (got[group.sequence] = []);
				readers.push(
					(async () => {
						for (;;) {
							const frame = await group.readFrame();
							if (!frame) return;
							list.push(dec.decode(frame.payload));
							if (++count === total) resolve();
						}
					})(),
				);
			}
			await Promise.all(readers);
			if (count < total) throw new Error(`track ended after ${count} of ${total} frames`);
		})().catch(reject);
	});
	try {
		await withTimeout(complete, `receiving ${total} frames`);
	} finally {
		sub.close();
	}
	return got;
}

async function run(): Promise<void> {
	switch (scenario) {
		case "setup": {
			const conn = await connect();
			conn.close();
			await withTimeout(conn.closed, "close");
			return;
		}
		case "announce": {
			const conn = await connect();
			const broadcast = await publishTrack(conn, path);
			await waitFor("announced");
			broadcast.close();
			await report("withdrawn");
			await waitFor("withdrawal-seen");
			conn.close();
			return;
		}
		case "subscribe-missing": {
			const conn = await connect();
			const sub = conn.consume(path).track(trackName).subscribe();
			try {
				const frame = await withTimeout(sub.readFrame(), "an error for a track nobody publishes");
				throw new Error(`expected an error, got ${frame === undefined ? "end of track" : "a frame"}`);
			} catch (err) {
				const msg = err instanceof Error ? err.message : String(err);
				if (msg.startsWith("timed out")) throw err;
				await report("subscribe-error", { error: msg });
			}
			conn.close();
			return;
		}
		case "publish": {
			const conn = await connect();
			await publishTrack(conn, path);
			await waitFor("received");
			conn.close();
			return;
		}
		case "subscribe": {
			const conn = await connect();
			const got = await readTrack(conn.consume(path));
			await report("frames", { groups: got });
			conn.close();
			return;
		}
		case "subscribe-early": {
			const conn = await connect();
			// "watching" means the SUBSCRIBE_NAMESPACE is on its way, so that the
			// test announces the broadcast only after the relay was asked for it.
			const written = logged("subscribe_namespace written");
			const watch = conn.announcedBroadcast(path);
			await written;
			await report("watching");
			const active = await withTimeout(
				new Promise<Moq.Broadcast.Consumer>((resolve) => {
					const dispose = watch.active.subscribe((b) => {
						if (b) {
							resolve(b);
							dispose();
						}
					});
				}),
				"the broadcast to come online",
			);
			const got = await readTrack(active);
			await report("frames", { groups: got });
			watch.close();
			conn.close();
			return;
		}
		case "discover": {
			const conn = await connect();
			const prefix = Moq.Path.from(params.get("prefix") ?? "");
			const written = logged("subscribe_namespace written");
			const announced = conn.announced(prefix);
			await written;
			await report("watching");
			const found = await withTimeout(
				(async () => {
					for (;;) {
						const ev = await announced.next();
						if (!ev) throw new Error("announcements ended");
						if (ev.active) return ev.path;
					}
				})(),
				"an announcement under the prefix",
			);
			await report("discovered", { path: found });
			const got = await readTrack(conn.consume(Moq.Path.join(prefix, found)));
			await report("frames", { groups: got });
			announced.close();
			conn.close();
			return;
		}
		default:
			throw new Error(`unknown case ${JSON.stringify(scenario)}`);
	}
}

run().then(
	() => report("done", { ok: true }),
	(err) => report("done", { ok: false, error: err instanceof Error ? `${err.message}\n${err.stack ?? ""}` : String(err) }),
);
