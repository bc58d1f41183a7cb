import KubeCore

/// The Experiment CRD's schema (the source of crds/experiments.gantry.dev.yaml, `make crds`).
public enum ExperimentSchema {
    public static let maxTrialsLimit = 1000

    static let parameter = Schema.object("One searched hyperparameter; its value reaches each trial as hyperparameters[name] (env HP_<NAME>).", [
        "name": Schema.string("Hyperparameter name.", pattern: "^[A-Za-z_][A-Za-z0-9_.-]*$", maxLength: 63, minLength: 1),
        "type": Schema.string("double and int: a range from min to max. categorical and discrete: one of values.", enum: SearchParameter.ValueType.allCases.map(\.rawValue)),
        "min": Schema.number("Lowest value (double, int)."),
        "max": Schema.number("Highest value (double, int)."),
        "step": Schema.number("Spacing of the values: grid points are min, min+step, …; drawn values are rounded to it. Required for a double with algorithm grid."),
        "scale": Schema.string("log: draws are uniform in log space (min must be > 0), for rates and regularisation strengths.", enum: SearchParameter.Scale.allCases.map(\.rawValue)),
        "values": Schema.array("The values of a categorical or discrete parameter (discrete values are numbers).", of: Schema.string("A value.", maxLength: 256), maxItems: 256),
    ], required: ["name", "type"], rules: [
        ("self.type in ['categorical', 'discrete'] || (has(self.min) && has(self.max))", "min and max are required for a double or int parameter"),
        ("!has(self.min) || !has(self.max) || self.min <= self.max", "min must not be greater than max"),
        ("!has(self.scale) || self.scale != 'log' || (has(self.min) && self.min > 0)", "scale log needs min > 0 (a log range cannot reach zero or below)"),
        ("!(self.type in ['categorical', 'discrete']) || (has(self.values) && size(self.values) > 0)", "values must list at least one value for a categorical or discrete parameter"),
        ("!has(self.step) || self.step > 0", "step must be greater than 0"),
    ])

    public static let spec = Schema.immutable(Schema.object("A hyperparameter search: trials are TrainingJobs made from template, run within the namespace's GPU quota.", [
        "template": TrainingJobSchema.spec,
        "parameters": {
            var list = Schema.array("The searched hyperparameters.", of: parameter, maxItems: 32)
            list["x-kubernetes-list-type"] = "map"
            list["x-kubernetes-list-map-keys"] = ["name"]
            list["minItems"] = 1
            return list
        }(),
        "objective": Schema.object("What a trial is judged by.", [
            "metric": Schema.string("A metric of the trials' training log; each trial's spec.metrics.objective.", maxLength: 128, minLength: 1),
            "goal": Schema.string("minimize or maximize.", enum: EarlyStopping.Goal.allCases.map(\.rawValue), default: "minimize"),
            "target": Schema.number("Stop the search (no new trials) once a trial's best value reaches this."),
        ], required: ["metric"]),
        "algorithm": Schema.string("grid: every combination in order. random: independent draws. tpe: Tree-structured Parzen Estimator.", enum: ExperimentSpec.Algorithm.allCases.map(\.rawValue)),
        "seed": Schema.integer("Seed of random and TPE draws (same seed, same search). Unset: derived from the experiment's uid (status.search.seed).", minimum: 0),
        "maxTrials": Schema.integer("Trials to run in all. Required for random and tpe; with grid, unset runs every combination.", minimum: 1, maximum: maxTrialsLimit),
        "parallelTrials": Schema.integer("Trials that may exist unfinished at once (queued ones count): an upper bound; the namespace's GPU quota still applies.", minimum: 1, maximum: 100, default: 1),
        "maxFailedTrials": Schema.integer("The experiment fails when more trials than this have failed.", minimum: 0, maximum: maxTrialsLimit, default: 3),
        "earlyStopping": TrainingJobSchema.spec["properties"]?["earlyStopping"] ?? .emptyObject,
        "suspend": Schema.boolean("True: no new trials, and unfinished trials are suspended (their GPUs freed); false resumes them.", default: false),
    ], required: ["template", "parameters", "objective", "algorithm"], rules: [
        ("self.algorithm == 'grid' || has(self.maxTrials)", "spec.maxTrials is required with algorithm random or tpe"),
        ("self.algorithm != 'grid' || self.parameters.all(p, p.type != 'double' || has(p.step))", "spec.parameters: with algorithm grid every double parameter needs a step"),
        ("!has(self.template.hyperparameters) || self.parameters.all(p, !(p.name in self.template.hyperparameters))", "spec.template.hyperparameters: a searched parameter cannot also be fixed in the template; remove it from one of them"),
        ("!has(self.template.metrics) || !has(self.template.metrics.objective)", "spec.template.metrics.objective: the objective is set once, in spec.objective"),
        ("!has(self.earlyStopping) || !has(self.template.earlyStopping)", "spec.template.earlyStopping: early stopping is set once, in spec.earlyStopping"),
        ("!has(self.template.suspend) || !self.template.suspend", "spec.template.suspend: suspend the whole experiment with spec.suspend"),
    ]), except: ExperimentSpec.mutableFields, kind: "Experiment")

    static let trial = Schema.object("A trial.", [
        "name": Schema.string("Its TrainingJob."),
        "index": Schema.integer("1, 2, …: its place in the search."),
        "parameters": Schema.stringMap("Its hyperparameter values."),
        "phase": Schema.string("Its TrainingJob's phase (Pending before it has one)."),
        "value": Schema.number("Its best value of the objective."),
        "step": Schema.integer("The step of that value."),
        "message": Schema.string("Why it failed."),
    ])

    public static let status = Schema.object("What the controller observed. Written only by Gantry.", [
        "observedGeneration": ["type": "integer", "format": "int64", "description": "The generation of the spec this status describes."],
        "conditions": SharedSchemas.conditions,
        "phase": Schema.string("Running, Completing (no new trials; waiting for running ones), Succeeded, Failed or Suspended.", enum: ExperimentStatus.Phase.allCases.map(\.rawValue)),
        "search": Schema.object("The search settings in force.", [
            "algorithm": Schema.string("grid, random or tpe."),
            "seed": Schema.integer("Seed in force (spec.seed, or derived from the uid)."),
            "maxTrials": Schema.integer("Trials that will run in all."),
            "startupTrials": Schema.integer("TPE: trials drawn at random before the model is used."),
            "gridSize": Schema.integer("grid: the number of combinations."),
        ]),
        "trials": Schema.object("Trials by phase.", [
            "created": Schema.integer("Trials created."), "queued": Schema.integer("Waiting for admission (or suspended)."),
            "running": Schema.integer("Running."), "succeeded": Schema.integer("Succeeded."),
            "failed": Schema.integer("Failed."), "earlyStopped": Schema.integer("Stopped early."),
        ]),
        "trialResults": Schema.array("Every trial: values, phase, best objective value.", of: trial, maxItems: maxTrialsLimit),
        "bestTrial": Schema.object("The best trial so far.", [
            "name": Schema.string("Its TrainingJob."), "parameters": Schema.stringMap("Its values."),
            "value": Schema.number("Its best objective value."), "step": Schema.integer("The step of that value."),
        ]),
        "currentOptimum": Schema.array("How the optimum improved: each time a trial took the lead.", of: Schema.object("A point.", [
            "trial": Schema.string("The trial."), "value": Schema.number("Its value."), "time": Schema.string("When it was seen."),
        ]), maxItems: maxTrialsLimit),
        "startTime": Schema.string("When the first trial was created."),
        "completionTime": Schema.string("When the experiment finished."),
    ])

    public static var crd: JSONValue {
        CRDBuilder.crd(
            kind: "Experiment", plural: "experiments", singular: "experiment", shortNames: ["gex"], namespaced: true,
            description: "A hyperparameter search over a TrainingJob template: grid, random or TPE, trials in parallel within quota.",
            spec: spec, status: status,
            printerColumns: [
                ("Phase", "string", ".status.phase", 0),
                ("Trials", "integer", ".status.trials.created", 0),
                ("Running", "integer", ".status.trials.running", 0),
                ("Best", "string", ".status.bestTrial.name", 0),
                ("Optimum", "number", ".status.bestTrial.value", 0),
                ("Algorithm", "string", ".spec.algorithm", 1),
                ("Age", "date", ".metadata.creationTimestamp", 0),
            ])
    }
}
