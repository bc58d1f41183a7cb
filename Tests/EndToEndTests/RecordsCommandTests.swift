import EmbeddedCluster
import Foundation
import GantryControllers
import GantryTestSupport
import KubeCore
import Testing

/// `gantry records` through the real binary against the embedded cluster, on record ConfigMaps made as
/// TrainingRecord makes them (immutable, labelled gantry.dev/record=true, `record.json`, job annotation):
/// hyperparameter columns, the best mark under minimize and maximize, `records NAME`, `-o wide`, `-o csv`.
@Suite(.serialized)
struct RecordsCommandTests {
    init() throws {
        _ = try Prerequisite.gantryBinary(repoRoot: OperatorHarness.repoRoot)
        try Prerequisite.kubectl()
    }

    /// A record ConfigMap, named and labelled as the controller names it (`<job>-record`, or a hashed name when
    /// the job's name is not a DNS-1035 label).
    static func configMap(_ job: String, experiment: String, phase: String,
                          hp: [String: String], metric: String, value: Double, objective: JSONValue?, finished: String) -> JSONValue {
        var record: JSONValue = [
            "job": .string(job), "namespace": "default", "experiment": .string(experiment), "phase": .string(phase),
            "hyperparameters": .object(hp.mapValues(JSONValue.string)), "image": "ghcr.io/acme/train:1.2",
            "imageID": "ghcr.io/acme/train@sha256:0123456789abcdef", "gitCommit": "4f2a9c1", "nodes": ["gpu-node-0", "gpu-node-1"],
            "gpuHours": 1.25, "startTime": "2025-03-01T08:00:00Z", "completionTime": .string(finished),
            "metrics": ["step": 1000, "latest": .object([metric: .double(value)]), "best": ["name": .string(metric), "value": .double(value), "step": 900],
                        "history": [[100, 1.0], [900, .double(value)]]],
            "result": ["reason": .string(phase == "Failed" ? "ExitCode" : phase), "message": "done"],
        ]
        if let objective { record["objective"] = objective }
        var cm: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "immutable": true, "data": ["record.json": .string(record.serialized())]]
        cm.name = ChildNaming.name(job, "record")
        cm.namespace = "default"
        cm.annotations = ["gantry.dev/trainingjob": job]
        cm.labels = ["gantry.dev/trainingjob": ChildNaming.labelValue(job), "gantry.dev/record": "true", "gantry.dev/experiment": experiment]
        return cm
    }

    /// Rows of a kubectl-style table as header → cell, cut at the header's column starts (cells may hold
    /// spaces, and the best-mark column is blank on most rows). A column with a blank header (the mark) is keyed "".
    static func table(_ text: String) -> [[String: String]] {
        let lines = text.split(separator: "\n").map(String.init)
        guard let header = lines.first else { return [] }
        var starts: [(String, Int)] = header.first == " " ? [("", 0)] : []
        var offset = 0, previous: Character = " "
        for ch in header {
            if ch != " " && previous == " " {
                let rest = header.dropFirst(offset)
                starts.append((String(rest.prefix { $0 != " " }), offset))
            }
            previous = ch
            offset += 1
        }
        return lines.dropFirst().map { line in
            var row: [String: String] = [:]
            for (i, (name, start)) in starts.enumerated() {
                let end = i + 1 < starts.count ? starts[i + 1].1 : Int.max
                let cell = line.dropFirst(start).prefix(end == .max ? line.count : end - start)
                row[name] = cell.trimmingCharacters(in: .whitespaces)
            }
            return row
        }
    }

    @Test func listsHyperparametersMarksTheBestAndShowsOneJob() async throws {
        try await withCluster(TestCluster.bare(DevClusterOptions(tls: true))) { cluster async throws in
            // lr-sweep: records written before the objective was recorded (judged by loss, minimize assumed). The failed
            // run's loss is lowest but it cannot win; lr-0.1 has no batch size.
            // acc-sweep: objective val_acc, maximize; one job name is not a DNS-1035 label, so its ConfigMap is hashed.
            let items: [JSONValue] = [
                Self.configMap("sweep-a", experiment: "lr-sweep", phase: "Succeeded", hp: ["lr": "0.01", "batch_size": "32"],
                               metric: "loss", value: 0.31, objective: nil, finished: "2025-03-01T09:00:00Z"),
                Self.configMap("sweep-b", experiment: "lr-sweep", phase: "EarlyStopped", hp: ["lr": "0.001", "batch_size": "64"],
                               metric: "loss", value: 0.22, objective: nil, finished: "2025-03-01T10:00:00Z"),
                Self.configMap("sweep-c", experiment: "lr-sweep", phase: "Failed", hp: ["lr": "0.1"],
                               metric: "loss", value: 0.05, objective: nil, finished: "2025-03-01T11:00:00Z"),
                Self.configMap("acc-1", experiment: "acc-sweep", phase: "Succeeded", hp: ["lr": "0.01", "batch_size": "32"],
                               metric: "val_acc", value: 0.81, objective: ["metric": "val_acc", "goal": "maximize"], finished: "2025-03-02T09:00:00Z"),
                Self.configMap("acc.run.2", experiment: "acc-sweep", phase: "Succeeded",
                               hp: ["lr": "0.003", "batch_size": "64"], metric: "val_acc", value: 0.93,
                               objective: ["metric": "val_acc", "goal": "maximize"], finished: "2025-03-02T10:00:00Z"),
                Self.configMap("acc-3", experiment: "acc-sweep", phase: "Succeeded", hp: ["lr": "0.03", "batch_size": "128"],
                               metric: "val_acc", value: 0.64, objective: ["metric": "val_acc", "goal": "maximize"], finished: "2025-03-02T11:00:00Z"),
            ]
            let list: JSONValue = ["apiVersion": "v1", "kind": "List", "items": .array(items)]
            #expect(ChildNaming.name("acc.run.2", "record") != "acc.run.2-record", "a hashed record name, found by annotation only")
            let created = await cluster.kubectl("create", "-f", "-", stdin: list.serialized())
            try #require(created.ok, "\(created.stderr)")

            func records(_ args: String...) async -> CommandResult {
                await runProcess(GantryBinary.path, ["records", "--kubeconfig", cluster.kubeconfig] + args)
            }

            // Minimize (assumed): the lowest loss among Succeeded/EarlyStopped runs, listed first.
            let lr = await records("--experiment", "lr-sweep")
            #expect(lr.ok, "\(lr.stderr)")
            let lrRows = Self.table(lr.stdout)
            #expect(lr.stdout.split(separator: "\n").first?.split(separator: " ")
                == ["JOB", "EXPERIMENT", "BATCH_SIZE", "LR", "OBJECTIVE", "PHASE", "GPU-HOURS", "FINISHED"], "\(lr.stdout)")
            #expect(lrRows.map { $0["JOB"] ?? "" } == ["sweep-b", "sweep-a", "sweep-c"], "\(lr.stdout)")
            #expect(lrRows.map { $0[""] ?? "" } == ["*", "", ""], "\(lr.stdout)")
            #expect(lrRows.first?["OBJECTIVE"] == "loss=0.22" && lrRows.first?["LR"] == "0.001" && lrRows.first?["BATCH_SIZE"] == "64")
            #expect(lrRows.last?["BATCH_SIZE"] == "-" && lrRows.last?["PHASE"] == "Failed", "\(lr.stdout)")

            // Maximize: the highest val_acc wins; the job with a hashed ConfigMap name is found by its annotation.
            let acc = await records("--experiment", "acc-sweep")
            let accRows = Self.table(acc.stdout)
            #expect(accRows.map { $0["JOB"] ?? "" } == ["acc.run.2", "acc-1", "acc-3"], "\(acc.stdout)")
            #expect(accRows.map { $0[""] ?? "" } == ["*", "", ""], "\(acc.stdout)")

            // Without --experiment: every record, oldest first; each experiment keeps its own best.
            let all = Self.table(await records().stdout)
            #expect(all.map { $0["JOB"] ?? "" } == ["sweep-a", "sweep-b", "sweep-c", "acc-1", "acc.run.2", "acc-3"])
            #expect(all.filter { $0[""] == "*" }.map { $0["JOB"] ?? "" } == ["sweep-b", "acc.run.2"])

            // One job: its row only, marked when it is its experiment's best.
            let one = Self.table(await records("acc.run.2").stdout)
            #expect(one.count == 1 && one.first?["JOB"] == "acc.run.2" && one.first?[""] == "*")
            let notBest = Self.table(await records("sweep-a").stdout)
            #expect(notBest.count == 1 && notBest.first?[""] == "")
            let json = await records("sweep-c", "-o", "json")
            #expect((try? JSONValue.parse(json.stdout))?["job"] == "sweep-c", "\(json.stdout)")

            // -o wide: provenance, and the goal of records without objective marked as assumed.
            let wide = await records("-o", "wide", "--sort-by", "name")
            let wideRows = Self.table(wide.stdout)
            let a = try #require(wideRows.first { $0["JOB"] == "acc-1" }, "\(wide.stdout)")
            #expect(a["GOAL"] == "maximize" && a["IMAGE"] == "ghcr.io/acme/train:1.2" && a["IMAGE-ID"] == "sha256:0123456789abcdef")
            #expect(a["GIT-COMMIT"] == "4f2a9c1" && a["NODES"] == "gpu-node-0,gpu-node-1" && a["REASON"] == "Succeeded")
            #expect(wideRows.first { $0["JOB"] == "sweep-c" }?["GOAL"] == "minimize (assumed)", "\(wide.stdout)")
            #expect(wideRows.first { $0["JOB"] == "sweep-c" }?["REASON"] == "ExitCode")

            // -o csv: RFC 4180, every column, full-precision values.
            let csv = await records("--experiment", "lr-sweep", "-o", "csv")
            let lines = csv.stdout.components(separatedBy: "\r\n")
            #expect(lines.first == "BEST,NAMESPACE,JOB,EXPERIMENT,BATCH_SIZE,LR,OBJECTIVE,VALUE,PHASE,GPU-HOURS,FINISHED,GOAL,IMAGE,IMAGE-ID,GIT-COMMIT,NODES,REASON",
                    "\(csv.stdout)")
            #expect(lines.count > 1 && lines[1] == "*,default,sweep-b,lr-sweep,64,0.001,loss,0.22,EarlyStopped,1.25,2025-03-01T10:00:00Z,minimize (assumed),"
                + "ghcr.io/acme/train:1.2,sha256:0123456789abcdef,4f2a9c1,\"gpu-node-0,gpu-node-1\",EarlyStopped", "\(csv.stdout)")
            #expect(lines.count == 5 && lines[4].isEmpty, "three records and a final CRLF: \(csv.stdout)")

            // An unknown job fails and names what it looked for and where.
            let missing = await records("no-such-job")
            #expect(!missing.ok)
            #expect(missing.stderr.contains("no record of TrainingJob \"no-such-job\" in namespace \"default\""), "\(missing.stderr)")
            let wrongNamespace = await records("sweep-a", "-n", "team-b")
            #expect(!wrongNamespace.ok && wrongNamespace.stderr.contains("in namespace \"team-b\""), "\(wrongNamespace.stderr)")
        }
    }
}
