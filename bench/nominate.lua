-- wrk script of the growth part of scripts/bench: POSTs nominations that look like the
-- foundation's (many nationalities, names drawn per country, unions, nominating organisations,
-- a unique e-mail each), spread over the programmes listed in BENCH_PROGRAMMES.
--
-- Environment:
--   BENCH_TOKEN        staff JWT
--   BENCH_PROGRAMMES   comma-separated programme ids (open programmes)
--   BENCH_QUOTA        per wrk thread: stop after this many 201s (0: run for wrk's -d)
--   BENCH_TAG          makes e-mails unique across loader runs
-- Prints one "BENCH {json}" line like bench/report.lua, with "created" added.

local token = os.getenv("BENCH_TOKEN")
local quota = tonumber(os.getenv("BENCH_QUOTA") or "0")
local tag = os.getenv("BENCH_TAG") or "0"
local programme_list = os.getenv("BENCH_PROGRAMMES") or ""

-- nationality -> family names, given names, the national centre that nominates
local people = {
  VN = {{"Nguyen", "Tran", "Le", "Pham", "Hoang", "Vu", "Dang", "Bui", "Do", "Ngo"},
        {"Lan", "Minh", "Huong", "Thanh", "Anh", "Tuan", "Hoa", "Dung", "Linh", "Quang"}, "VGCL"},
  ID = {{"Santoso", "Wijaya", "Saputra", "Hidayat", "Kusuma", "Pratama", "Siregar", "Nasution"},
        {"Budi", "Siti", "Agus", "Dewi", "Rina", "Eko", "Sri", "Wahyu", "Indah", "Yusuf"}, "KSPI"},
  PH = {{"Santos", "Reyes", "Cruz", "Bautista", "Ocampo", "Garcia", "Mendoza", "Torres"},
        {"Maria", "Jose", "Ana", "Mark", "Grace", "Paolo", "Liza", "Ramon", "Joy", "Carlo"}, "TUCP"},
  TH = {{"Saetang", "Srisuk", "Wongsa", "Chaiyaporn", "Boonmee", "Thongdee", "Kaewmanee"},
        {"Somchai", "Suda", "Anan", "Malee", "Niran", "Pim", "Kittisak", "Ratana"}, "TTUC"},
  MY = {{"Abdullah", "Ismail", "Tan", "Lim", "Wong", "Rahman", "Ibrahim", "Chong"},
        {"Aisyah", "Ahmad", "Mei Ling", "Hafiz", "Nurul", "Kumar", "Farah", "Wei"}, "MTUC"},
  IN = {{"Sharma", "Patel", "Singh", "Kumar", "Reddy", "Nair", "Iyer", "Das", "Gupta"},
        {"Priya", "Rahul", "Anjali", "Vikram", "Sunita", "Arjun", "Deepa", "Ravi"}, "INTUC"},
  BD = {{"Rahman", "Hossain", "Ahmed", "Islam", "Khan", "Chowdhury", "Akter", "Sarker"},
        {"Fatema", "Karim", "Nasrin", "Rafiq", "Shirin", "Jamal", "Ruma", "Hasan"}, "BJSD"},
  LK = {{"Perera", "Fernando", "Silva", "Jayasinghe", "Bandara", "Dissanayake", "Wickrama"},
        {"Nimal", "Chamari", "Sunil", "Dilani", "Kasun", "Ishara", "Ruwan", "Nadeesha"}, "CWC"},
  NP = {{"Shrestha", "Gurung", "Tamang", "Rai", "Thapa", "Adhikari", "Sharma", "Magar"},
        {"Sita", "Ram", "Gita", "Bikash", "Sunita", "Prakash", "Anita", "Binod"}, "GEFONT"},
  MN = {{"Bat", "Dorj", "Ganbold", "Enkhbayar", "Tsedev", "Erdene", "Sukh", "Otgon"},
        {"Saraa", "Bold", "Oyun", "Tuya", "Gerel", "Anar", "Bilguun", "Nomin"}, "CMTU"},
  KH = {{"Sok", "Chan", "Kim", "Heng", "Seng", "Lim", "Meas", "Chea"},
        {"Sophea", "Dara", "Sreymom", "Vuthy", "Chenda", "Rith", "Bopha", "Sokha"}, "CLC"},
  MM = {{"Aung", "Kyaw", "Win", "Thant", "Myint", "Htun", "Zaw", "Naing"},
        {"Su", "Thiha", "Hnin", "Min", "Ei", "Zin", "Khin", "Aye"}, "CTUM"},
  FJ = {{"Naidu", "Tuilagi", "Ratu", "Vakatale", "Prasad", "Singh", "Koroi", "Waqa"},
        {"Mere", "Josefa", "Ana", "Semi", "Litia", "Viliame", "Salote", "Tevita"}, "FTUC"},
  BR = {{"Silva", "Santos", "Oliveira", "Souza", "Lima", "Pereira", "Costa", "Ferreira"},
        {"João", "Ana", "Luiz", "Mariana", "Paulo", "Fernanda", "Carlos", "Beatriz"}, "CUT"},
  MX = {{"Hernández", "García", "Martínez", "López", "González", "Pérez", "Sánchez", "Ramírez"},
        {"José", "María", "Juan", "Guadalupe", "Luis", "Rosa", "Jorge", "Lucía"}, "CTM"},
  KE = {{"Otieno", "Kamau", "Wanjiru", "Mwangi", "Odhiambo", "Kiprop", "Achieng", "Njoroge"},
        {"Grace", "Peter", "Faith", "John", "Mercy", "David", "Esther", "Samuel"}, "COTU"},
  ZA = {{"Nkosi", "Dlamini", "Mokoena", "Khumalo", "Naidoo", "van der Merwe", "Zulu"},
        {"Thabo", "Lerato", "Sipho", "Zanele", "Pieter", "Naledi", "Bongani", "Ayanda"}, "COSATU"},
  TR = {{"Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Öztürk", "Aydın"},
        {"Ayşe", "Mehmet", "Fatma", "Ahmet", "Zeynep", "Mustafa", "Elif", "Emre"}, "TÜRK-İŞ"},
}
local nationalities = {}
for code in pairs(people) do table.insert(nationalities, code) end
table.sort(nationalities)  -- pairs() order is not fixed: the same seed gives the same people

local positions = {"Youth officer", "Women's committee chair", "Education officer",
                   "General secretary", "Shop steward", "Organiser", "Vice president",
                   "Occupational safety officer"}
local sectors = {"Garment Workers", "Port Workers", "Teachers", "Health Workers",
                 "Electricity Workers", "Plantation Workers", "Transport Workers",
                 "Hotel Workers", "Metal Workers", "Construction Workers"}

local function pick(list) return list[math.random(#list)] end

local function quote(text)
  return '"' .. text:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

local programmes = {}
local sent = 0
created = 0  -- a global: done() reads it from every thread (thread:get)

function init()
  for id in string.gmatch(programme_list, "[^,]+") do table.insert(programmes, id) end
  math.randomseed(thread_id * 7919 + #programmes)
end

function request()
  sent = sent + 1
  local nationality = pick(nationalities)
  local names = people[nationality]
  local union = names[3] .. " " .. pick(sectors) .. " Federation"
  local body = '{"candidate":{"family_name":' .. quote(pick(names[1])) ..
      ',"given_name":' .. quote(pick(names[2])) ..
      ',"nationality":"' .. nationality .. '"' ..
      ',"email":"c' .. tag .. "-" .. thread_id .. "-" .. sent .. '@unions.example.org"' ..
      ',"union":' .. quote(union) ..
      ',"position":' .. quote(pick(positions)) ..
      '},"nominating_organisation":{"name":' .. quote(names[3]) ..
      ',"country":"' .. nationality .. '"}}'
  local path = "/v1/programmes/" .. programmes[math.random(#programmes)] .. "/nominations"
  return wrk.format("POST", path, {["Authorization"] = "Bearer " .. token,
                                   ["Content-Type"] = "application/json"}, body)
end

function response(status)
  if status == 201 then
    created = created + 1
    if quota > 0 and created >= quota then wrk.thread:stop() end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local total = 0
  for _, thread in ipairs(threads) do total = total + (thread:get("created") or 0) end
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"socket_errors":%d,"non2xx":%d,' ..
    '"p50_us":%d,"p99_us":%d,"max_us":%d,"created":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency.max, total))
end
