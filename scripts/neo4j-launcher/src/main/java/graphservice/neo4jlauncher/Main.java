package graphservice.neo4jlauncher;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.BoltConnectorInternalSettings;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.io.ByteUnit;

/**
 * Runs an embedded Neo4j (community) with Bolt on a loopback address, for tests.
 *
 * <p>Usage: {@code Main --home DIR --port PORT [--host 127.0.0.1] [--pagecache-mb 256]
 * [--config neo4j.conf]}
 *
 * <p>Authentication is disabled; drivers may send any credentials. The process runs until
 * it gets SIGTERM/SIGINT, when a shutdown hook stops the database cleanly.
 */
public final class Main {

    public static final String READY_MARKER = "NEO4J_TEST_SERVER_READY";

    private Main() {}

    public static void main(String[] args) throws Exception {
        Path home = null;
        String host = "127.0.0.1";
        int port = -1;
        long pagecacheMb = 256;
        Path configFile = null;

        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String v = (i + 1 < args.length) ? args[i + 1] : null;
            switch (a) {
                case "--home" -> { home = Paths.get(required(a, v)); i++; }
                case "--host" -> { host = required(a, v); i++; }
                case "--port" -> { port = Integer.parseInt(required(a, v)); i++; }
                case "--pagecache-mb" -> { pagecacheMb = Long.parseLong(required(a, v)); i++; }
                case "--config" -> { configFile = Paths.get(required(a, v)); i++; }
                default -> usage("unknown argument: " + a);
            }
        }
        if (home == null || port <= 0 || port > 65535) {
            usage("--home and --port are required");
        }
        Files.createDirectories(home);

        DatabaseManagementServiceBuilder builder = new DatabaseManagementServiceBuilder(home);
        if (configFile != null) {
            // Loaded first: the settings below (bolt, auth, ...) always win.
            builder.loadPropertiesFromFile(configFile);
        }
        builder.setConfig(GraphDatabaseSettings.auth_enabled, false)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress(host, port))
                .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                .setConfig(HttpConnector.enabled, false)
                .setConfig(HttpsConnector.enabled, false)
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(pagecacheMb))
                // Throwaway test data: do not pre-allocate files, keep few tx logs.
                .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                .setConfig(GraphDatabaseSettings.preallocate_store_files, false)
                .setConfig(GraphDatabaseSettings.keep_logical_logs, "false")
                // No usage reports (no internet here; tests should not phone home).
                .setConfig(GraphDatabaseSettings.udc_enabled, false)
                // Stop fast: Bolt otherwise waits 5 s + 5 s for its thread pools on shutdown.
                .setConfig(BoltConnectorInternalSettings.thread_pool_shutdown_wait_time, Duration.ofSeconds(1))
                .setConfig(BoltConnectorInternalSettings.connection_shutdown_wait_time, Duration.ofSeconds(1));

        long t0 = System.nanoTime();
        DatabaseManagementService managementService = builder.build();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("neo4j-launcher: shutting down");
            System.out.flush();
            try {
                managementService.shutdown();
            } catch (Throwable t) {
                t.printStackTrace();
            } finally {
                stopped.countDown();
            }
            System.out.println("neo4j-launcher: stopped");
            System.out.flush();
        }, "neo4j-launcher-shutdown"));

        GraphDatabaseService db = managementService.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
        if (!db.isAvailable(TimeUnit.SECONDS.toMillis(60))) {
            System.err.println("neo4j-launcher: database did not become available");
            System.exit(3);
        }
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        System.out.println(READY_MARKER + " bolt://" + host + ":" + port + " (" + ms + " ms)");
        System.out.flush();

        // Stay alive until the shutdown hook has run.
        stopped.await();
    }

    private static String required(String flag, String value) {
        if (value == null) {
            usage("missing value for " + flag);
        }
        return value;
    }

    private static void usage(String message) {
        System.err.println("neo4j-launcher: " + message);
        System.err.println("usage: Main --home DIR --port PORT [--host ADDR] [--pagecache-mb N] [--config FILE]");
        System.exit(2);
    }
}
