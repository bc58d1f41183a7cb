/// The dashboard's Mustache templates. `{{value}}` is HTML-escaped by the engine, so every name, label value,
/// hyperparameter and message is text on the page, never markup; the one `{{{body}}}` in the layout inserts a page
/// already rendered by these templates. No script, no external resource: the pages work air-gapped.
enum DashboardTemplates {
    static let all: [String: String] = [
        "layout": layout, "unavailable": unavailable, "facts": facts, "conditions": conditions, "chart": chart,
        "overview": overview, "experiments": experiments, "experiment": experiment, "trainingjobs": trainingJobs,
        "trainingjob": trainingJob, "inferenceservices": inferenceServices, "inferenceservice": inferenceService,
        "notebooks": notebooks, "gpus": gpus, "message": message,
    ]

    static let layout = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>{{title}} · Gantry</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <style>
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#1d2430;background:#f6f7f9}
        header{background:#1d2430;color:#fff;padding:10px 24px;display:flex;gap:20px;align-items:baseline;flex-wrap:wrap}
        header a{color:#d7e3f4;text-decoration:none}header a.brand{color:#fff;font-weight:700;font-size:16px}
        header .who{margin-left:auto;color:#9aa7b8;font-size:12px}
        main{padding:16px 24px;max-width:1240px}h1{font-size:20px;margin:6px 0 14px}h2{font-size:16px;margin:22px 0 8px}
        table{border-collapse:collapse;background:#fff;width:100%;margin-bottom:8px}
        th,td{border-bottom:1px solid #e3e6ea;padding:5px 8px;text-align:left;vertical-align:top}
        th{background:#eef1f4;font-weight:600;font-size:13px}
        tr.best td{background:#fff6d6}td.num{text-align:right;font-variant-numeric:tabular-nums}
        dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:3px 14px;background:#fff;padding:10px 14px;margin:0}
        dl.facts dt{color:#5b6675}dl.facts dd{margin:0}
        .noaccess{background:#fff;border-left:4px solid #b0b8c4;padding:8px 12px;color:#5b6675}
        .scope{color:#5b6675;font-size:12px}.empty{color:#5b6675}
        .good{color:#08783e}.bad{color:#a4262c}.stale{opacity:.6}
        .warning{color:#a4262c}.swatch{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:middle;margin-right:6px}
        svg.chart{background:#fff;max-width:100%;height:auto}svg.chart text{font-size:11px;fill:#3b4553}
        .bar{background:#e3e6ea;width:120px;height:10px;display:inline-block;vertical-align:middle}
        .bar span{display:block;height:10px;background:#0072B2}.bar.over span{background:#D55E00}
        .cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:12px}
        .card{background:#fff;padding:12px 14px;border-top:3px solid #0072B2}.card b{font-size:22px;display:block}
        </style></head>
        <body><header><a class="brand" href="/">Gantry</a><a href="/experiments">Experiments</a><a href="/trainingjobs">TrainingJobs</a>
        <a href="/inferenceservices">InferenceServices</a><a href="/notebooks">Notebooks</a><a href="/gpus">GPUs</a>
        <span class="who">{{identity}}</span></header>
        <main><h1>{{title}}</h1>
        {{{body}}}
        </main></body></html>

        """

    static let unavailable = """
        {{#unavailable}}<p class="noaccess"><b>{{title}}</b>: {{detail}}</p>{{/unavailable}}{{#scope}}<p class="scope">Showing {{.}}: you may not list across namespaces.</p>{{/scope}}
        """

    static let facts = """
        <dl class="facts">{{#facts}}<dt>{{name}}</dt><dd>{{#link}}<a href="{{link}}">{{value}}</a>{{/link}}{{^link}}{{value}}{{/link}}</dd>{{/facts}}</dl>
        """

    static let conditions = """
        <h2>Conditions</h2>
        {{^conditions}}<p class="empty">No conditions yet.</p>{{/conditions}}
        {{^empty(conditions)}}<table class="conditions"><tr><th>Type</th><th>Status</th><th>Reason</th><th>Message</th><th>Since</th></tr>{{/empty(conditions)}}
        {{#conditions}}<tr{{#stale}} class="stale" title="written for an older generation"{{/stale}}><td>{{type}}</td><td class="{{tone}}">{{status}}</td><td>{{reason}}</td><td>{{message}}</td><td>{{since}}</td></tr>{{/conditions}}
        {{^empty(conditions)}}</table>{{/empty(conditions)}}
        """

    /// One metric's curves: axes with ticks, one polyline per run (a dot for a single point), a legend.
    static let chart = """
        {{#isEmpty}}<p class="empty">No {{metric}} reported yet.</p>{{/isEmpty}}{{^isEmpty}}
        <svg class="chart" width="{{width}}" height="{{height}}" viewBox="0 0 {{width}} {{height}}" role="img" aria-label="{{metric}} by step">
        <g class="axes" stroke="#8a94a3" stroke-width="1"><line x1="{{plotLeft}}" y1="{{plotBottom}}" x2="{{plotRight}}" y2="{{plotBottom}}"/><line x1="{{plotLeft}}" y1="{{plotTop}}" x2="{{plotLeft}}" y2="{{plotBottom}}"/></g>
        {{#xTicks}}<line x1="{{position}}" y1="{{plotBottom}}" x2="{{position}}" y2="{{plotTop}}" stroke="#eef1f4"/><text x="{{position}}" y="{{plotBottom}}" dy="15" text-anchor="middle">{{label}}</text>{{/xTicks}}
        {{#yTicks}}<line x1="{{plotLeft}}" y1="{{position}}" x2="{{plotRight}}" y2="{{position}}" stroke="#eef1f4"/><text x="{{plotLeft}}" y="{{position}}" dx="-6" dy="4" text-anchor="end">{{label}}</text>{{/yTicks}}
        <text x="{{xLabelX}}" y="{{xLabelY}}" text-anchor="middle">step</text>
        <text x="14" y="{{yLabelY}}" text-anchor="middle" transform="rotate(-90 14 {{yLabelY}})">{{metric}}</text>
        {{#lines}}<polyline class="run" data-run="{{name}}" fill="none" stroke="{{color}}" stroke-width="{{strokeWidth}}"{{#dashes}} stroke-dasharray="{{dashes}}"{{/dashes}} stroke-linejoin="round" points="{{points}}"><title>{{name}}</title></polyline>{{#dot}}<circle cx="{{x}}" cy="{{y}}" r="3" fill="{{color}}"/>{{/dot}}{{/lines}}
        <g class="legend">{{#legend}}<line x1="{{legendX}}" y1="{{y}}" x2="{{legendLineEnd}}" y2="{{y}}" stroke="{{color}}" stroke-width="3"{{#dashes}} stroke-dasharray="{{dashes}}"{{/dashes}}/><text x="{{legendTextX}}" y="{{textY}}">{{name}}{{#emphasized}} ★ best{{/emphasized}}</text>{{/legend}}</g>
        </svg>{{/isEmpty}}
        """

    static let overview = """
        <div class="cards">{{#cards}}<a class="card" href="{{link}}" style="text-decoration:none;color:inherit"><b>{{count}}</b>{{name}}{{#detail}}<br><span class="scope">{{.}}</span>{{/detail}}{{#unavailable}}<br><span class="scope">{{title}}</span>{{/unavailable}}{{#scope}}<br><span class="scope">{{.}}</span>{{/scope}}</a>{{/cards}}</div>
        """

    static let experiments = """
        {{#section}}{{> unavailable}}{{#isEmpty}}<p class="empty">No experiments.</p>{{/isEmpty}}
        {{^empty(rows)}}<table><tr><th>Namespace</th><th>Experiment</th><th>Phase</th><th>Algorithm</th><th>Trials</th><th>Best</th></tr>{{/empty(rows)}}
        {{#rows}}<tr><td>{{namespace}}</td><td><a href="{{link}}">{{name}}</a></td><td>{{phase}}</td><td>{{algorithm}}</td><td>{{trials}}</td><td>{{best}}</td></tr>{{/rows}}
        {{^empty(rows)}}</table>{{/empty(rows)}}{{/section}}
        """

    static let experiment = """
        {{> facts}}
        <h2>Runs compared</h2>
        {{#chart}}{{> chart}}{{/chart}}
        <table class="runs"><tr><th>Run</th><th>Phase</th><th>Objective</th><th>Hyperparameters</th></tr>
        {{#runs}}<tr{{#isBest}} class="best"{{/isBest}}><td><span class="swatch" style="background:{{color}}"></span>{{#link}}<a href="{{link}}">{{name}}</a>{{/link}}{{^link}}{{name}}{{/link}}{{#isBest}} ★ best{{/isBest}}</td><td>{{phase}}</td><td class="num">{{value}}</td><td>{{hyperparameters}}</td></tr>{{/runs}}
        </table>
        <h2>Records</h2>
        {{#records}}{{#isEmpty}}<p class="empty">No records yet: a record is written when a run finishes.</p>{{/isEmpty}}{{^isEmpty}}
        <table class="records"><tr>{{#headers}}<th>{{.}}</th>{{/headers}}</tr>
        {{#rows}}<tr{{#isBest}} class="best"{{/isBest}}>{{#cells}}<td>{{.}}</td>{{/cells}}</tr>{{/rows}}</table>{{/isEmpty}}{{/records}}
        {{> conditions}}
        """

    static let trainingJobs = """
        {{#section}}{{> unavailable}}{{#isEmpty}}<p class="empty">No TrainingJobs.</p>{{/isEmpty}}
        {{^empty(rows)}}<table><tr><th>Namespace</th><th>TrainingJob</th><th>Phase</th><th>GPUs</th><th>Experiment</th><th>Best objective</th><th>Started</th><th>Finished</th></tr>{{/empty(rows)}}
        {{#rows}}<tr><td>{{namespace}}</td><td><a href="{{link}}">{{name}}</a></td><td>{{phase}}</td><td class="num">{{gpus}}</td><td>{{#experimentLink}}<a href="{{experimentLink}}">{{experiment}}</a>{{/experimentLink}}{{^experimentLink}}{{experiment}}{{/experimentLink}}</td><td>{{objective}}</td><td>{{started}}</td><td>{{finished}}</td></tr>{{/rows}}
        {{^empty(rows)}}</table>{{/empty(rows)}}{{/section}}
        """

    static let trainingJob = """
        {{> facts}}
        <h2>Metrics</h2>
        {{#charts}}{{> chart}}{{/charts}}
        {{^empty(replicas)}}<h2>Replicas</h2><table><tr><th>Index</th><th>Pod</th><th>Node</th><th>Exit code</th><th>Reason</th><th>Message</th></tr>{{/empty(replicas)}}
        {{#replicas}}<tr><td>{{index}}</td><td>{{pod}}</td><td>{{node}}</td><td>{{exit}}</td><td>{{reason}}</td><td>{{message}}</td></tr>{{/replicas}}
        {{^empty(replicas)}}</table>{{/empty(replicas)}}
        {{> conditions}}
        """

    static let inferenceServices = """
        {{#section}}{{> unavailable}}{{#isEmpty}}<p class="empty">No InferenceServices.</p>{{/isEmpty}}
        {{^empty(rows)}}<table><tr><th>Namespace</th><th>InferenceService</th><th>URL</th><th>Active revision</th><th>Ready</th><th>Candidate</th><th>Last swap</th></tr>{{/empty(rows)}}
        {{#rows}}<tr><td>{{namespace}}</td><td><a href="{{link}}">{{name}}</a></td><td>{{url}}</td><td>{{active}}</td><td>{{ready}}</td><td>{{candidate}}</td><td>{{lastSwap}}</td></tr>{{/rows}}
        {{^empty(rows)}}</table>{{/empty(rows)}}{{/section}}
        """

    static let inferenceService = """
        {{> facts}}
        <h2>Revisions</h2>
        <table class="revisions"><tr><th>Role</th><th>Revision</th><th>Colour</th><th>Image</th><th>Model version</th><th>Trained by</th></tr>
        {{#revisions}}<tr><td>{{role}}</td><td>{{hash}}</td><td>{{color}}</td><td>{{image}}</td><td>{{model}}</td><td>{{source}}</td></tr>{{/revisions}}</table>
        {{#hasCandidate}}<h2>Candidate</h2>{{/hasCandidate}}{{^empty(candidate)}}<dl class="facts">{{/empty(candidate)}}{{#candidate}}<dt>{{name}}</dt><dd>{{value}}</dd>{{/candidate}}{{^empty(candidate)}}</dl>{{/empty(candidate)}}
        <h2>Swap history</h2>
        {{#history}}{{> unavailable}}{{#isEmpty}}<p class="empty">No Events kept (they expire after an hour); the last swap is above.</p>{{/isEmpty}}
        {{^empty(rows)}}<table class="history"><tr><th>Time</th><th>Type</th><th>Reason</th><th>Note</th></tr>{{/empty(rows)}}
        {{#rows}}<tr><td>{{time}}</td><td{{#isWarning}} class="warning"{{/isWarning}}>{{type}}</td><td>{{reason}}</td><td>{{note}}</td></tr>{{/rows}}
        {{^empty(rows)}}</table>{{/empty(rows)}}{{/history}}
        {{> conditions}}
        """

    static let notebooks = """
        {{#section}}{{> unavailable}}{{#isEmpty}}<p class="empty">No Notebooks.</p>{{/isEmpty}}
        {{^empty(rows)}}<table><tr><th>Namespace</th><th>Notebook</th><th>Phase</th><th>GPUs</th><th>Last activity</th><th>Idle timeout</th><th>Culled if idle until</th><th>Culled at</th><th>URL</th><th>Note</th></tr>{{/empty(rows)}}
        {{#rows}}<tr><td>{{namespace}}</td><td>{{name}}</td><td>{{phase}}</td><td class="num">{{gpus}}</td><td>{{lastActivity}}</td><td>{{idleTimeout}}</td><td>{{cullingDeadline}}</td><td>{{culledAt}}</td><td>{{url}}</td><td>{{note}}</td></tr>{{/rows}}
        {{^empty(rows)}}</table>{{/empty(rows)}}{{/section}}
        """

    static let gpus = """
        <h2>Nodes</h2>
        {{#nodes}}{{> unavailable}}{{#isEmpty}}<p class="empty">No GPU nodes.</p>{{/isEmpty}}
        {{^empty(rows)}}<table class="nodes"><tr><th>Node</th><th>GPUs</th><th>Allocated</th><th>Free</th><th>Idle</th><th>Utilisation</th></tr>{{/empty(rows)}}
        {{#rows}}<tr><td>{{name}}</td><td class="num">{{capacity}}</td><td class="num">{{allocated}}</td><td class="num">{{free}}</td><td class="num{{#hasIdle}} warning{{/hasIdle}}">{{idle}}</td><td class="num">{{utilization}}</td></tr>{{/rows}}
        {{^empty(rows)}}</table>{{/empty(rows)}}{{/nodes}}
        <h2>Namespaces</h2>
        {{#namespaces}}{{> unavailable}}{{#isEmpty}}<p class="empty">No namespace holds GPUs or has a budget.</p>{{/isEmpty}}
        {{^empty(rows)}}<table class="namespaces"><tr><th>Namespace</th><th>Allocated</th><th>Idle</th><th>Utilisation</th><th>GPU-hours used</th><th>Budget</th><th>Budget used</th><th>State</th></tr>{{/empty(rows)}}
        {{#rows}}<tr><td>{{name}}</td><td class="num">{{allocated}}</td><td class="num{{#hasIdle}} warning{{/hasIdle}}">{{idle}}</td><td class="num">{{utilization}}</td><td class="num">{{used}}</td><td class="num">{{budget}}</td><td>{{#hasBudget}}<span class="bar{{#overWarning}} over{{/overWarning}}"><span style="width:{{barWidth}}%"></span></span> {{barWidth}}%{{/hasBudget}}{{^hasBudget}}-{{/hasBudget}}</td><td>{{state}}</td></tr>{{/rows}}
        {{^empty(rows)}}</table>{{/empty(rows)}}{{/namespaces}}
        <h2>Idle GPUs</h2>
        {{#idleDetectionOff}}<p class="empty">Idle-GPU detection is off (PlatformConfig spec.idleGPUs).</p>{{/idleDetectionOff}}
        {{#idlePods}}{{> unavailable}}{{^idleDetectionOff}}{{#isEmpty}}<p class="empty">No idle GPUs.</p>{{/isEmpty}}{{/idleDetectionOff}}
        {{^empty(rows)}}<table class="idle"><tr><th>Namespace</th><th>Pod</th><th>Owner</th><th>Node</th><th>GPUs</th><th>Utilisation</th><th>Below threshold since</th></tr>{{/empty(rows)}}
        {{#rows}}<tr><td>{{namespace}}</td><td>{{pod}}</td><td>{{owner}}</td><td>{{node}}</td><td class="num">{{gpus}}</td><td class="num">{{utilization}}</td><td>{{idleSince}}</td></tr>{{/rows}}
        {{^empty(rows)}}</table>{{/empty(rows)}}{{/idlePods}}
        """

    static let message = """
        <p class="noaccess">{{text}}</p>
        """
}
