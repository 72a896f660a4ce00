// The official Node SDK (npm intercom-client, pinned in bench/package.json), one benchmark workload.
//
//   node bench/clients/node.js WORKLOAD BASE_URL
//
// Prints one JSON line like the other clients: ops, seconds (workload only), cpu_seconds, W5's RSS samples.
// One untimed warm-up request of the workload's kind comes first, as in every client.
"use strict";
const { IntercomClient } = require("intercom-client");

const [workload, base] = process.argv.slice(2);

function client(prefix) {
    return new IntercomClient({ token: "bench-token", baseUrl: base + prefix, version: "2.12" });
}

function ids(n) {
    const list = [];
    for (let i = 1; i <= n; i++) list.push("65ddcd01697be43641" + String(i).padStart(6, "0"));
    return list;
}

const kb = () => Math.round(process.memoryUsage().rss / 1024);

async function main() {
    let ops, extra = "", started, cpu0;
    if (workload === "W1" || workload === "W4seq") {
        const c = client(workload === "W1" ? "/w1" : "/w4");
        const list = ids(workload === "W1" ? 2000 : 200);
        await c.contacts.find({ contact_id: "warm-up" });
        cpu0 = process.cpuUsage();
        started = process.hrtime.bigint();
        for (const id of list) {
            const contact = await c.contacts.find({ contact_id: id });
            if (!contact.id) throw new Error("no contact");
        }
        ops = list.length;
    } else if (workload === "W2") {
        const c = client("/w2");
        await c.contacts.list({ per_page: 50 });
        cpu0 = process.cpuUsage();
        started = process.hrtime.bigint();
        let n = 0;
        for (let r = 0; r < 10; r++) {
            const page = await c.contacts.list({ per_page: 50 });
            for await (const _ of page) n++;
        }
        if (n !== 10000) throw new Error("got " + n);
        ops = 200;
    } else if (workload === "W3") {
        const c = client("/w3");
        const search = async () => {
            const page = await c.contacts.search({
                query: { operator: "AND", value: [
                    { field: "role", operator: "=", value: "user" },
                    { field: "created_at", operator: ">", value: 1700000000 },
                ] },
                pagination: { per_page: 10 },
            });
            if (!page.data) throw new Error("no data");
        };
        await search();
        cpu0 = process.cpuUsage();
        started = process.hrtime.bigint();
        for (let i = 0; i < 500; i++) await search();
        ops = 500;
    } else if (workload === "W4") {
        const c = client("/w4");
        const list = ids(1000);
        await c.contacts.find({ contact_id: "warm-up" });
        cpu0 = process.cpuUsage();
        started = process.hrtime.bigint();
        let next = 0;
        async function worker() {
            while (next < list.length) {
                const id = list[next++];
                const contact = await c.contacts.find({ contact_id: id });
                if (!contact.id) throw new Error("no contact");
            }
        }
        await Promise.all(Array.from({ length: 16 }, worker));
        ops = 1000;
    } else if (workload === "W5") {
        const c = client("/w5");
        let n = 0, at100 = 0;
        await c.contacts.list({ per_page: 50 });
        cpu0 = process.cpuUsage();
        started = process.hrtime.bigint();
        const page = await c.contacts.list({ per_page: 50 });
        for await (const _ of page) {
            n++;
            if (n === 100 * 50) at100 = kb();
        }
        if (n !== 100000) throw new Error("got " + n);
        ops = 2000;
        extra = `, "rss_kb_page100": ${at100}, "rss_kb_page2000": ${kb()}`;
    } else {
        throw new Error("unknown workload " + workload);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const used = process.cpuUsage(cpu0);
    const cpu = (used.user + used.system) / 1e6;
    process.stdout.write(`{"ops": ${ops}, "seconds": ${seconds.toFixed(6)}, "cpu_seconds": ${cpu.toFixed(6)}${extra}}\n`);
}

main().catch((e) => { console.error(e); process.exit(1); });
