package graphservice.readers;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.gephi.graph.api.Column;
import org.gephi.graph.api.Edge;
import org.gephi.graph.api.Graph;
import org.gephi.graph.api.GraphController;
import org.gephi.graph.api.GraphModel;
import org.gephi.graph.api.Node;
import org.gephi.io.importer.api.Container;
import org.gephi.io.importer.api.EdgeDirectionDefault;
import org.gephi.io.importer.api.EdgeMergeStrategy;
import org.gephi.io.importer.api.ImportController;
import org.gephi.io.importer.api.Issue;
import org.gephi.io.processor.plugin.DefaultProcessor;
import org.gephi.project.api.ProjectController;
import org.gephi.project.api.Workspace;
import org.openide.util.Lookup;

/**
 * Imports each file with the Gephi Toolkit (as Gephi's File > Open does, keeping parallel edges) and prints one
 * JSON line per file: node and edge counts, import issues, the type of each column, how many nodes and edges
 * carry a time interval, positions and colours, and the attributes of the nodes and edges named with
 * {@code --node ID} and {@code --edge ID}, so a caller can compare them with the service.
 */
public final class GephiCheck {
    private GephiCheck() {}

    public static void main(String[] args) throws Exception {
        List<String> files = new ArrayList<>();
        List<String> nodeIds = new ArrayList<>();
        List<String> edgeIds = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--node" -> nodeIds.add(args[++i]);
                case "--edge" -> edgeIds.add(args[++i]);
                default -> files.add(args[i]);
            }
        }
        ProjectController projects = Lookup.getDefault().lookup(ProjectController.class);
        ImportController importer = Lookup.getDefault().lookup(ImportController.class);
        for (String path : files) {
            long start = System.nanoTime();
            projects.newProject();
            Workspace workspace = projects.getCurrentWorkspace();
            Container container = importer.importFile(new File(path));
            container.getLoader().setEdgeDefault(EdgeDirectionDefault.DIRECTED);
            container.getLoader().setAllowParallelEdge(true);
            container.getLoader().setEdgesMergeStrategy(EdgeMergeStrategy.NO_MERGE);
            int issues = 0;
            StringBuilder firstIssues = new StringBuilder();
            for (Issue.Level level : new Issue.Level[] {Issue.Level.WARNING, Issue.Level.SEVERE, Issue.Level.CRITICAL}) {
                for (Issue issue : container.getReport().getIssuesList(level.toInteger())) {
                    if (issue.getLevel() != level) {
                        continue;
                    }
                    if (issues++ < 5) {
                        firstIssues.append(firstIssues.length() > 0 ? ", " : "").append(json(issue.getMessage()));
                    }
                }
            }
            importer.process(container, new DefaultProcessor(), workspace);
            GraphModel model = Lookup.getDefault().lookup(GraphController.class).getGraphModel(workspace);
            Graph graph = model.getGraph();
            int timedNodes = 0;
            int placed = 0;
            int coloured = 0;
            for (Node node : graph.getNodes()) {
                if (node.getIntervals().length > 0) {
                    timedNodes++;
                }
                if (node.x() != 0f || node.y() != 0f) {
                    placed++;
                }
                if (node.r() != 0.6f || node.g() != 0.6f || node.b() != 0.6f) {
                    coloured++;
                }
            }
            int timedEdges = 0;
            for (Edge edge : graph.getEdges()) {
                if (edge.getIntervals().length > 0) {
                    timedEdges++;
                }
            }
            StringBuilder out = new StringBuilder("{");
            out.append("\"file\": ").append(json(new File(path).getName()));
            out.append(", \"seconds\": ").append(String.format(Locale.ROOT, "%.2f", (System.nanoTime() - start) / 1e9));
            out.append(", \"nodes\": ").append(graph.getNodeCount());
            out.append(", \"edges\": ").append(graph.getEdgeCount());
            out.append(", \"issues\": ").append(issues).append(", \"first_issues\": [").append(firstIssues).append("]");
            out.append(", \"timed_nodes\": ").append(timedNodes).append(", \"timed_edges\": ").append(timedEdges);
            out.append(", \"placed_nodes\": ").append(placed).append(", \"coloured_nodes\": ").append(coloured);
            out.append(", \"node_columns\": ").append(columns(model.getNodeTable()));
            out.append(", \"edge_columns\": ").append(columns(model.getEdgeTable()));
            out.append(", \"sample_nodes\": {");
            String separator = "";
            for (String id : nodeIds) {
                Node node = graph.getNode(id);
                out.append(separator).append(json(id)).append(": ");
                out.append(node == null ? "null" : attributes(node.getLabel(), node, model.getNodeTable()));
                separator = ", ";
            }
            out.append("}, \"sample_edges\": {");
            separator = "";
            for (String id : edgeIds) {
                Edge edge = graph.getEdge(id);
                out.append(separator).append(json(id)).append(": ");
                out.append(edge == null ? "null" : attributes(edge.getLabel(), edge, model.getEdgeTable()));
                separator = ", ";
            }
            out.append("}}");
            System.out.println(out);
            projects.closeCurrentProject();
        }
    }

    private static String columns(Iterable<Column> table) {
        StringBuilder out = new StringBuilder("{");
        String separator = "";
        for (Column column : table) {
            out.append(separator).append(json(column.getTitle())).append(": ");
            out.append(json(column.getTypeClass().getSimpleName()));
            separator = ", ";
        }
        return out.append("}").toString();
    }

    private static String attributes(String label, org.gephi.graph.api.Element element, Iterable<Column> table) {
        StringBuilder out = new StringBuilder("{\"label\": ").append(json(label));
        for (Column column : table) {
            Object value = element.getAttribute(column);
            if (value == null || column.isProperty()) {
                continue;
            }
            out.append(", ").append(json(column.getTitle())).append(": ");
            out.append(json(value.getClass().getSimpleName() + ":" + value));
        }
        return out.append("}").toString();
    }

    private static String json(String text) {
        if (text == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder("\"");
        for (char c : text.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}
