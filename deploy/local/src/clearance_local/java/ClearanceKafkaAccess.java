// Provisions Kafka principals and ACLs in one JVM, through Kafka's own Admin client.
//
//   java -cp '<kafka libs>/*' ClearanceKafkaAccess.java <admin client properties> <spec file>
//
// The spec file (written by clearance_local.kafka, owner-only) has one tab-separated line
// per item:
//   scram <user> <password>                                           SCRAM-SHA-512 user
//   acl <principal> <TOPIC|GROUP> <LITERAL|PREFIXED> <name> <operation>   ALLOW entry
// ACLs in the cluster that the spec does not list are deleted: the spec (derived from the
// AsyncAPI document) is the whole access policy.
import java.io.FileReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

public class ClearanceKafkaAccess {
  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    try (FileReader reader = new FileReader(args[0])) {
      props.load(reader);
    }
    List<UserScramCredentialAlteration> users = new ArrayList<>();
    List<AclBinding> acls = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of(args[1]))) {
      if (line.isBlank()) {
        continue;
      }
      String[] f = line.split("\t");
      if (f[0].equals("scram")) {
        users.add(new UserScramCredentialUpsertion(
            f[1], new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), f[2]));
      } else if (f[0].equals("acl")) {
        ResourcePattern resource = new ResourcePattern(
            ResourceType.fromString(f[2]), f[4], PatternType.fromString(f[3]));
        AccessControlEntry entry = new AccessControlEntry(
            f[1], "*", AclOperation.fromString(f[5]), AclPermissionType.ALLOW);
        acls.add(new AclBinding(resource, entry));
      } else {
        throw new IllegalArgumentException("unknown spec line: " + f[0]);
      }
    }
    try (Admin admin = Admin.create(props)) {
      if (!users.isEmpty()) {
        admin.alterUserScramCredentials(users).all().get();
      }
      Set<AclBinding> wanted = new HashSet<>(acls);
      Collection<AclBinding> existing = admin.describeAcls(AclBindingFilter.ANY).values().get();
      List<AclBindingFilter> stale = new ArrayList<>();
      for (AclBinding binding : existing) {
        if (!wanted.contains(binding)) {
          stale.add(binding.toFilter());
        }
      }
      if (!stale.isEmpty()) {
        admin.deleteAcls(stale).all().get();
      }
      if (!acls.isEmpty()) {
        admin.createAcls(acls).all().get();
      }
      System.out.printf("users %d, acls %d, removed %d%n", users.size(), acls.size(), stale.size());
    }
  }
}
